namespace Capstan.Core.Replication;

using System.Collections.ObjectModel;
using System.Runtime.InteropServices;
using Capstan.Core.Model;
using Capstan.Core.Spans;

/// <summary>
/// The changefeed's current tables and, for each, the probe pair bounding its spans in span order
/// (<see cref="TableSpans.TableRange"/>). Probes are cached per table id; entries of tables that
/// left the list are evicted on the next update (no wall-clock expiry, unlike TiCDC's 10 minutes).
/// An update with the same list as before costs one comparison pass and no allocation.
/// </summary>
public sealed class TableRanges
{
    private readonly Dictionary<TableId, CacheEntry> _cache = [];
    private readonly List<TableId> _tables = [];
    private readonly ReadOnlyCollection<TableId> _tablesView;
    private readonly List<TableId> _evicted = [];
    private (Span Start, Span End)[] _ranges = [];

    /// <summary>Incremented by every real update; marks which cache entries are still current.</summary>
    private long _generation;

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

    /// <summary>Number of cached probe pairs (for tests and metrics).</summary>
    public int CachedRangeCount => _cache.Count;

    /// <summary>Replaces the current tables (the list is copied).</summary>
    public void UpdateTables(IReadOnlyList<TableId> tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        if (SameAsCurrent(tables))
        {
            return;
        }

        _generation++;
        _tables.Clear();
        if (_ranges.Length < tables.Count)
        {
            _ranges = new (Span, Span)[tables.Count];
        }

        int distinct = 0;
        bool ascending = true;
        for (int index = 0; index < tables.Count; index++)
        {
            TableId table = tables[index];
            ref CacheEntry entry = ref CollectionsMarshal.GetValueRefOrAddDefault(_cache, table, out bool cached);
            if (!cached)
            {
                entry.Range = TableSpans.TableRange(table);
            }

            if (entry.Generation != _generation)
            {
                entry.Generation = _generation;
                distinct++;
            }

            ascending &= index == 0 || _tables[index - 1].Value < table.Value;
            _tables.Add(table);
            _ranges[index] = entry.Range;
        }

        IsAscending = ascending;
        Array.Clear(_ranges, tables.Count, _ranges.Length - tables.Count);
        if (_cache.Count > distinct)
        {
            EvictStale();
        }
    }

    /// <summary>The probe pair of the table at <paramref name="index"/>: its spans lie in [Start, End).</summary>
    public (Span Start, Span End) RangeOf(int index)
    {
        if ((uint)index >= (uint)_tables.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{_tables.Count} tables");
        }

        return _ranges[index];
    }

    private bool SameAsCurrent(IReadOnlyList<TableId> tables)
    {
        if (tables.Count != _tables.Count || _generation == 0)
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

    private void EvictStale()
    {
        _evicted.Clear();
        foreach (var (table, entry) in _cache)
        {
            if (entry.Generation != _generation)
            {
                _evicted.Add(table);
            }
        }

        foreach (var table in _evicted)
        {
            _cache.Remove(table);
        }

        _evicted.Clear();
    }

    private struct CacheEntry
    {
        public (Span Start, Span End) Range;
        public long Generation;
    }
}
