namespace Capstan.Core.Replication;

using System.Collections.ObjectModel;
using Capstan.Core.Model;
using Capstan.Core.Spans;

/// <summary>
/// The changefeed's current tables, in the order given. Each table's spans lie between the probe
/// pair of <see cref="TableSpans.TableRange"/>; the checkpoint walk writes those probe keys into a
/// stack buffer per table (<see cref="TableSpans.WriteTableStartKey"/>) instead of keeping two
/// key arrays per table (which cost more memory than a replication set), so nothing per table is
/// kept besides its id. An update with the same list as before costs one comparison pass and no
/// allocation.
/// </summary>
public sealed class TableRanges
{
    private readonly List<TableId> _tables = [];
    private readonly ReadOnlyCollection<TableId> _tablesView;

    /// <summary>False until the first update.</summary>
    private bool _updated;

    /// <summary>Creates an empty list.</summary>
    public TableRanges()
    {
        _tablesView = _tables.AsReadOnly();
    }

    /// <summary>Number of current tables.</summary>
    public int Count => _tables.Count;

    /// <summary>The current tables in the order given (a live read-only view).</summary>
    public IReadOnlyList<TableId> Tables => _tablesView;

    /// <summary>True when the current tables are in strictly ascending order (lets lookups walk forward).</summary>
    public bool IsAscending { get; private set; } = true;

    /// <summary>Replaces the current tables (the list is copied).</summary>
    public void UpdateTables(IReadOnlyList<TableId> tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        if (SameAsCurrent(tables))
        {
            return;
        }

        _updated = true;
        _tables.Clear();
        _tables.EnsureCapacity(tables.Count);
        bool ascending = true;
        for (int index = 0; index < tables.Count; index++)
        {
            TableId table = tables[index];
            ascending &= index == 0 || _tables[index - 1].Value < table.Value;
            _tables.Add(table);
        }

        IsAscending = ascending;
    }

    /// <summary>The table at <paramref name="index"/>.</summary>
    public TableId this[int index] => _tables[index];

    /// <summary>
    /// The probe pair of the table at <paramref name="index"/>: its spans are the spans in
    /// [Start, End). Allocates the probe keys (for diagnostics and tests; the checkpoint walk
    /// encodes them on the stack).
    /// </summary>
    public (Span Start, Span End) RangeOf(int index)
    {
        if ((uint)index >= (uint)_tables.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{_tables.Count} tables");
        }

        return TableSpans.TableRange(_tables[index]);
    }

    private bool SameAsCurrent(IReadOnlyList<TableId> tables)
    {
        if (tables.Count != _tables.Count || !_updated)
        {
            return false;
        }

        for (int index = 0; index < tables.Count; index++)
        {
            if (tables[index] != _tables[index])
            {
                return false;
            }
        }

        return true;
    }
}
