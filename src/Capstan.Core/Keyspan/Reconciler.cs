namespace Capstan.Core.Keyspan;

using System.Runtime.InteropServices;
using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Spans;

/// <summary>
/// Decides which spans should exist for the current tables (spec §7.1): the whole-table span, a
/// split of it for a new table when span replication is enabled, or what the replication sets
/// already cover (plus one span per gap) after an owner change.
/// </summary>
/// <remarks>
/// <para>Per table, from the replication sets that cover its key range:</para>
/// <list type="bullet">
/// <item>nothing covered, table not seen before → new table: split it (write-key splitter first,
/// then region-count splitter) or keep it whole; remembered as "added by the reconciler";</item>
/// <item>nothing covered, table seen before → keep its spans (the basic scheduler adds them in batches);</item>
/// <item>partly covered and added by the reconciler → keep its spans (the add is in progress);</item>
/// <item>partly covered otherwise (owner change after captures died) → the covered spans plus one
/// span per gap (gaps are not split);</item>
/// <item>fully covered → exactly the covered spans.</item>
/// </list>
/// <para>Dropped tables are forgotten. The result lists tables in ascending id order, each
/// table's spans in key order (TiCDC's order is random).</para>
/// <para>Cost: when neither the table list nor the set of spans in the map changed since the last
/// call, the previous result instance is returned in O(1). Otherwise one merge-walk over the
/// tables and the map's ordered spans, without allocating for tables whose spans are unchanged.
/// A new result instance is built only when some table's spans changed.</para>
/// </remarks>
public sealed class Reconciler
{
    /// <summary>Splitters in priority order; empty when splitting is off or there is no region source.</summary>
    private readonly ISpanSplitter[] _splitters;

    /// <summary>Current tables in ascending id order (duplicates of the input removed); entries are structs, updated in place.</summary>
    private TableEntry[] _tables = [];

    /// <summary>New spans of tables whose spans changed since the last rebuild of <see cref="_spanCache"/>.</summary>
    private List<Span> _pendingSpans = [];

    /// <summary>Scratch lists reused by every walk.</summary>
    private readonly List<Span> _covered = [];
    private readonly List<Span> _holes = [];
    private readonly List<Span> _merged = [];

    /// <summary>The last result; replaced (never mutated) when it changes.</summary>
    private Span[] _spanCache = [];

    /// <summary>Some table's spans changed since <see cref="_spanCache"/> was built.</summary>
    private bool _cacheDirty;

    /// <summary>The table list of the last call, and a copy of its content.</summary>
    private IReadOnlyList<TableId>? _lastTableList;
    private TableId[] _lastTableIds = [];

    /// <summary>The map and its key version at the end of the last completed walk; null forces a walk.</summary>
    private SpanMap<ReplicationSet>? _lastMap;
    private long _lastKeyVersion;

    /// <summary>
    /// Creates a reconciler. Splitting happens only when <see cref="SchedulerConfig.EnableTableAcrossNodes"/>
    /// is set and <paramref name="regionSource"/> is not null.
    /// </summary>
    public Reconciler(SchedulerConfig config, IRegionSource? regionSource)
    {
        ArgumentNullException.ThrowIfNull(config);
        _splitters = config.EnableTableAcrossNodes && regionSource is not null
            ?
            [
                new WriteKeySplitter(regionSource, config.WriteKeyThreshold),
                new RegionCountSplitter(regionSource, config.RegionThreshold),
            ]
            : [];
    }

    /// <summary>
    /// Returns the spans that should exist for <paramref name="currentTables"/> (the "current spans").
    /// </summary>
    /// <param name="currentTables">
    /// The tables to replicate, in any order. A list passed again by the same reference is taken as
    /// unchanged: pass a new list when the tables change, never mutate a list once passed.
    /// </param>
    /// <param name="replicationSets">The replication manager's sets; only their keys are read.</param>
    /// <param name="aliveCaptureCount">Alive captures; decides how finely new tables are split.</param>
    /// <exception cref="ReplicationSetInconsistentException">Two sets of a table overlap.</exception>
    public IReadOnlyList<Span> Reconcile(
        IReadOnlyList<TableId> currentTables, SpanMap<ReplicationSet> replicationSets, int aliveCaptureCount)
    {
        ArgumentNullException.ThrowIfNull(currentTables);
        ArgumentNullException.ThrowIfNull(replicationSets);
        ArgumentOutOfRangeException.ThrowIfNegative(aliveCaptureCount);

        bool tablesChanged = !SameTables(currentTables);
        if (!tablesChanged && ReferenceEquals(replicationSets, _lastMap) && replicationSets.KeyVersion == _lastKeyVersion)
        {
            return _spanCache;
        }

        _lastMap = null; // a walk that throws must be redone by the next call
        if (tablesChanged)
        {
            UpdateTables(currentTables);
        }

        Walk(replicationSets, aliveCaptureCount);
        if (_cacheDirty)
        {
            RebuildCache();
        }

        _lastMap = replicationSets;
        _lastKeyVersion = replicationSets.KeyVersion;
        return _spanCache;
    }

    /// <summary>True when the list is the last one by reference, or equal to it by content.</summary>
    private bool SameTables(IReadOnlyList<TableId> tables)
    {
        if (tables.Count != _lastTableIds.Length)
        {
            return false;
        }

        if (ReferenceEquals(tables, _lastTableList))
        {
            return true;
        }

        for (int index = 0; index < _lastTableIds.Length; index++)
        {
            if (tables[index] != _lastTableIds[index])
            {
                return false;
            }
        }

        _lastTableList = tables;
        return true;
    }

    /// <summary>Adopts a new table list: new tables get empty entries, dropped tables are forgotten.</summary>
    private void UpdateTables(IReadOnlyList<TableId> tables)
    {
        var ids = new TableId[tables.Count];
        bool ascending = true;
        for (int index = 0; index < ids.Length; index++)
        {
            ids[index] = tables[index];
            ascending &= index == 0 || ids[index - 1].Value < ids[index].Value;
        }

        TableId[] sorted = ids;
        if (!ascending)
        {
            sorted = (TableId[])ids.Clone();
            Array.Sort(sorted);
        }

        _tables = MergeTables(_tables, sorted);
        _lastTableList = tables;
        _lastTableIds = ids;
    }

    /// <summary>
    /// Merges the old entries with the new ascending ids (duplicates allowed): kept tables keep their
    /// entry, new ones get an empty one. Marks the cache dirty when a table comes or goes.
    /// </summary>
    private TableEntry[] MergeTables(TableEntry[] old, TableId[] sortedIds)
    {
        var merged = new TableEntry[sortedIds.Length];
        int count = 0;
        int next = 0;
        foreach (TableId id in sortedIds)
        {
            if (count > 0 && merged[count - 1].TableId == id)
            {
                continue;
            }

            while (next < old.Length && old[next].TableId.Value < id.Value)
            {
                next++;
                _cacheDirty = true; // dropped
            }

            if (next < old.Length && old[next].TableId == id)
            {
                merged[count++] = old[next++];
            }
            else
            {
                merged[count++] = new TableEntry(id);
                _cacheDirty = true; // created
            }
        }

        _cacheDirty |= next < old.Length;
        if (count < merged.Length)
        {
            Array.Resize(ref merged, count);
        }

        return merged;
    }

    /// <summary>One merge-walk over the tables (ascending id) and the map's spans (span order).</summary>
    private void Walk(SpanMap<ReplicationSet> replicationSets, int aliveCaptureCount)
    {
        var ordered = replicationSets.Ordered();
        Span<byte> startKey = stackalloc byte[TableSpans.TableKeyLength];
        Span<byte> endKey = stackalloc byte[TableSpans.TableKeyLength];
        int cursor = 0;
        for (int index = 0; index < _tables.Length; index++)
        {
            ref TableEntry table = ref _tables[index];
            TableSpans.WriteTableStartKey(table.TableId, startKey);
            TableSpans.WriteTableEndKey(table.TableId, endKey);
            while (cursor < ordered.Length && TableSpans.CompareToProbe(ordered[cursor].Key, table.TableId, startKey) < 0)
            {
                cursor++;
            }

            int first = cursor;
            while (cursor < ordered.Length && TableSpans.CompareToProbe(ordered[cursor].Key, table.TableId, endKey) < 0)
            {
                cursor++;
            }

            if (first == cursor)
            {
                _covered.Clear(); // nothing covered: the whole table is the hole, not needed below
                _holes.Clear();
            }
            else
            {
                SpanHoles.FindHoles(ordered[first..cursor], table.TableId, startKey, endKey, _covered, _holes);
            }

            _cacheDirty |= ReconcileTable(ref table, aliveCaptureCount);
        }
    }

    /// <summary>Applies §7.1 to one table given <see cref="_covered"/> and <see cref="_holes"/>; true when its spans changed.</summary>
    private bool ReconcileTable(ref TableEntry table, int aliveCaptureCount)
    {
        if (_covered.Count == 0)
        {
            if (table.Count >= 0)
            {
                return false; // seen before: its spans wait for the basic scheduler's batch limit
            }

            Store(ref table, SplitNewTable(TableSpans.WholeTable(table.TableId), aliveCaptureCount));
            table.ByAddTable = true;
            return true;
        }

        if (_holes.Count > 0)
        {
            if (table.Count >= 0 && table.ByAddTable)
            {
                return false; // our own add is still in progress
            }

            // Owner change after some captures died: keep what exists, one span per gap.
            MergeInKeyOrder(_covered, _holes, _merged);
            table.ByAddTable = false;
            return Store(ref table, CollectionsMarshal.AsSpan(_merged));
        }

        table.ByAddTable = false;
        return Store(ref table, CollectionsMarshal.AsSpan(_covered));
    }

    /// <summary>The spans a table has now (in the result cache, or pending since the last rebuild).</summary>
    private ReadOnlySpan<Span> SpansOf(in TableEntry table) =>
        table.Count <= 0 ? [] : (table.Pending ? CollectionsMarshal.AsSpan(_pendingSpans) : _spanCache).Slice(table.Offset, table.Count);

    /// <summary>Gives the table <paramref name="spans"/> unless it has exactly those; true when replaced.</summary>
    private bool Store(ref TableEntry table, ReadOnlySpan<Span> spans)
    {
        if (table.Count >= 0 && SpansOf(table).SequenceEqual(spans))
        {
            return false;
        }

        table.Offset = _pendingSpans.Count;
        table.Count = spans.Length;
        table.Pending = true;
        _pendingSpans.AddRange(spans);
        _cacheDirty = true; // set here too: a walk that throws later must still rebuild next time
        return true;
    }

    /// <summary>The new table's spans: the first split into more than one exact cover, else the whole table.</summary>
    private Span[] SplitNewTable(Span whole, int aliveCaptureCount)
    {
        foreach (ISpanSplitter splitter in _splitters)
        {
            Span[] spans = splitter.Split(whole, aliveCaptureCount);
            if (spans.Length > 1 && SpanSplitting.IsExactCover(spans, whole))
            {
                return spans;
            }
        }

        return [whole];
    }

    /// <summary>Merges two disjoint key-ordered span lists into <paramref name="merged"/>.</summary>
    private static void MergeInKeyOrder(List<Span> covered, List<Span> holes, List<Span> merged)
    {
        merged.Clear();
        int c = 0;
        int h = 0;
        while (c < covered.Count || h < holes.Count)
        {
            bool takeCovered = h == holes.Count
                || (c < covered.Count && covered[c].StartKey.SequenceCompareTo(holes[h].StartKey) < 0);
            merged.Add(takeCovered ? covered[c++] : holes[h++]);
        }
    }

    /// <summary>Builds a new result from every table's spans (tables in id order, spans in key order).</summary>
    private void RebuildCache()
    {
        int total = 0;
        foreach (TableEntry table in _tables)
        {
            total += Math.Max(table.Count, 0);
        }

        var cache = new Span[total];
        int next = 0;
        for (int index = 0; index < _tables.Length; index++)
        {
            ref TableEntry table = ref _tables[index];
            SpansOf(table).CopyTo(cache.AsSpan(next));
            table.Offset = next;
            table.Pending = false;
            next += Math.Max(table.Count, 0);
        }

        _spanCache = cache;
        _cacheDirty = false;
        if (_pendingSpans.Capacity > 1024)
        {
            _pendingSpans = []; // do not keep a large scratch list after the initial dispatch
        }
        else
        {
            _pendingSpans.Clear();
        }
    }

    /// <summary>
    /// What the reconciler knows about one current table (a struct: no object per table). Its spans
    /// are a slice of the result (<see cref="_spanCache"/>) or, when changed since the last
    /// rebuild, of <see cref="_pendingSpans"/>; the table's probe keys are encoded on the stack
    /// when needed, so nothing else per table is kept.
    /// </summary>
    private struct TableEntry
    {
        public TableEntry(TableId tableId)
        {
            TableId = tableId;
            Count = -1;
        }

        /// <summary>The table.</summary>
        public TableId TableId { get; }

        /// <summary>Start of the table's spans in the cache or the pending list.</summary>
        public int Offset { get; set; }

        /// <summary>Number of spans; −1 until the table was first reconciled.</summary>
        public int Count { get; set; }

        /// <summary>True when the spans are in <see cref="_pendingSpans"/> (changed since the last rebuild).</summary>
        public bool Pending { get; set; }

        /// <summary>True when the spans are a split made by this reconciler that may not be fully added yet.</summary>
        public bool ByAddTable { get; set; }
    }
}
