namespace Capstan.Core.Replication;

using Capstan.Core.Model;
using Capstan.Core.Spans;

/// <summary>The changefeed watermark (spec §4.6, without redo).</summary>
public sealed partial class ReplicationManager
{
    /// <summary>The set with the smallest checkpoint (ties: smallest resolved ts) at the last <see cref="AdvanceCheckpoint"/>; null when none.</summary>
    public Span? SlowestSink { get; private set; }

    /// <summary>The set with the smallest puller-egress resolved ts at the last <see cref="AdvanceCheckpoint"/>; null when none.</summary>
    public Span? SlowestPuller { get; private set; }

    /// <summary>The table that made the last <see cref="AdvanceCheckpoint"/> return "cannot proceed", or null.</summary>
    public TableId? LastMissingTable { get; private set; }

    /// <summary>
    /// Computes the watermark over the spans of every current table. Every set counts, whatever
    /// its state (an Absent set holds the checkpoint at its last value).
    /// </summary>
    /// <remarks>
    /// Rules, where TiCDC's were undefined or broken (§13 #39):
    /// <list type="bullet">
    /// <item>A table is covered when its spans, in order, start at the table's start key, each
    /// begins where the previous one ended, and the last ends at the table's end key. Anything
    /// else — a missing span, a gap, or overlapping spans — makes the result
    /// <see cref="Watermark.CannotProceed"/>. Table id 0 is no exception (TiCDC never detected
    /// holes in table 0).</item>
    /// <item>No current tables: resolved ts = <paramref name="globalBarrierTs"/> and checkpoint =
    /// min(<paramref name="minTableBarrierTs"/>, <paramref name="globalBarrierTs"/>), so that the
    /// checkpoint never exceeds the resolved ts (TiCDC used the minimum table barrier alone).</item>
    /// <item>With tables, the checkpoint is capped by <paramref name="minTableBarrierTs"/>.</item>
    /// <item>Span values are taken as they are, 2^64−1 included (TiCDC used that value as "no
    /// table seen" and panicked).</item>
    /// </list>
    /// Cost: when the table list is ascending (the usual case) the sets are walked once with a
    /// cursor, and a table held by one whole-table span is recognised from table ids alone;
    /// otherwise each table's first span is found by a galloping or binary search, with the
    /// table's probe keys encoded on the stack. No allocation.
    /// </remarks>
    public Watermark AdvanceCheckpoint(TableRanges tables, Ts globalBarrierTs, Ts minTableBarrierTs)
    {
        ArgumentNullException.ThrowIfNull(tables);
        SlowestSink = null;
        SlowestPuller = null;
        if (tables.Count == 0)
        {
            LastMissingTable = null;
            return new Watermark(Ts.MinOf(minTableBarrierTs, globalBarrierTs), globalBarrierTs, Ts.Zero, Ts.Max);
        }

        var ordered = Spans.Ordered();
        var progress = new Progress();
        Span<byte> startKey = stackalloc byte[TableSpans.TableKeyLength];
        Span<byte> endKey = stackalloc byte[TableSpans.TableKeyLength];
        int cursor = 0;
        for (int index = 0; index < tables.Count; index++)
        {
            TableId table = tables[index];
            int firstOfTable = LowerBoundByTable(ordered, table, cursor);
            if (firstOfTable == ordered.Length || ordered[firstOfTable].Key.TableId.Value != table.Value)
            {
                LastMissingTable = table; // the table has no span at all
                return Watermark.CannotProceed;
            }

            if (IsOnlyWholeTableSpan(ordered, firstOfTable, table))
            {
                progress.Add(ordered[firstOfTable].Value, firstOfTable);
                cursor = firstOfTable + 1;
                continue;
            }

            TableSpans.WriteTableStartKey(table, startKey);
            TableSpans.WriteTableEndKey(table, endKey);
            int first = LowerBound(ordered, table, startKey, firstOfTable);
            cursor = VisitTable(ordered, first, table, startKey, endKey, ref progress);
            if (cursor < 0)
            {
                LastMissingTable = table;
                return Watermark.CannotProceed;
            }
        }

        LastMissingTable = null;
        ForgetDeletedCheckpointsUpTo(progress.CheckpointTs);
        SlowestSink = ordered[progress.SlowestSink].Key;
        SlowestPuller = progress.SlowestPuller >= 0 ? ordered[progress.SlowestPuller].Key : null;
        return new Watermark(
            Ts.MinOf(progress.CheckpointTs, minTableBarrierTs),
            progress.ResolvedTs,
            progress.LastSyncedTs,
            progress.PullerResolvedTs);
    }

    /// <summary>A deleted set's checkpoint no later than the changefeed's can no longer matter.</summary>
    private void ForgetDeletedCheckpointsUpTo(Ts checkpointTs)
    {
        if (_deletedCheckpoints.Count == 0)
        {
            return;
        }

        foreach (var (span, deleted) in _deletedCheckpoints)
        {
            if (deleted <= checkpointTs)
            {
                _deletedCheckpoints.Remove(span);
            }
        }
    }

    /// <summary>
    /// The common case, decided without reading key bytes: the entry at the cursor is the only
    /// span of its table (its neighbours belong to other tables) and is the whole-table span
    /// (known by the set after its first check).
    /// </summary>
    private static bool IsOnlyWholeTableSpan(ReadOnlySpan<KeyValuePair<Span, ReplicationSet>> ordered, int cursor, TableId table)
    {
        return cursor < ordered.Length
            && ordered[cursor].Key.TableId.Value == table.Value
            && (cursor == 0 || ordered[cursor - 1].Key.TableId.Value < table.Value)
            && (cursor + 1 == ordered.Length || ordered[cursor + 1].Key.TableId.Value > table.Value)
            && ordered[cursor].Value.IsWholeTableSpan();
    }

    /// <summary>
    /// Folds the spans of one table, starting at <paramref name="first"/>, into
    /// <paramref name="progress"/>. The table's spans lie in [(table, startKey), (table, endKey)).
    /// Returns the index after the table's last span, or −1 when the table is not exactly covered.
    /// </summary>
    private static int VisitTable(
        ReadOnlySpan<KeyValuePair<Span, ReplicationSet>> ordered,
        int first,
        TableId table,
        ReadOnlySpan<byte> startKey,
        ReadOnlySpan<byte> endKey,
        ref Progress progress)
    {
        int index = first;
        if (index >= ordered.Length || TableSpans.CompareToProbe(ordered[index].Key, table, endKey) >= 0
            || !ordered[index].Key.StartKey.SequenceEqual(startKey))
        {
            return -1; // no span, or the first one does not start at the table's start
        }

        while (true)
        {
            progress.Add(ordered[index].Value, index);
            var span = ordered[index].Key;
            index++;
            if (index == ordered.Length || TableSpans.CompareToProbe(ordered[index].Key, table, endKey) >= 0)
            {
                return span.EndKey.SequenceEqual(endKey) ? index : -1;
            }

            if (!span.EndKey.SequenceEqual(ordered[index].Key.StartKey))
            {
                return -1; // a gap or an overlap
            }
        }
    }

    /// <summary>
    /// The first index whose key is ≥ the probe (<paramref name="table"/>, <paramref name="key"/>).
    /// Searches forward from <paramref name="cursor"/> by galloping when everything before it is
    /// smaller (ascending tables: usually one comparison), else binary-searches the prefix.
    /// </summary>
    private static int LowerBound(ReadOnlySpan<KeyValuePair<Span, ReplicationSet>> ordered, TableId table, ReadOnlySpan<byte> key, int cursor)
    {
        if (cursor > 0 && TableSpans.CompareToProbe(ordered[cursor - 1].Key, table, key) >= 0)
        {
            return BinarySearch(ordered, table, key, 0, cursor);
        }

        if (cursor >= ordered.Length || TableSpans.CompareToProbe(ordered[cursor].Key, table, key) >= 0)
        {
            return cursor;
        }

        // ordered[low] < probe; double the step until ordered[high] >= probe or the end.
        int low = cursor;
        int step = 1;
        int high = cursor + step;
        while (high < ordered.Length && TableSpans.CompareToProbe(ordered[high].Key, table, key) < 0)
        {
            low = high;
            step <<= 1;
            high = cursor + step;
        }

        return BinarySearch(ordered, table, key, low + 1, Math.Min(high, ordered.Length));
    }

    /// <summary>
    /// The first index whose table id is ≥ <paramref name="table"/> (reads no key bytes), searched
    /// as <see cref="LowerBound"/> does.
    /// </summary>
    private static int LowerBoundByTable(ReadOnlySpan<KeyValuePair<Span, ReplicationSet>> ordered, TableId table, int cursor)
    {
        long id = table.Value;
        if (cursor > 0 && ordered[cursor - 1].Key.TableId.Value >= id)
        {
            return BinarySearchByTable(ordered, id, 0, cursor);
        }

        if (cursor >= ordered.Length || ordered[cursor].Key.TableId.Value >= id)
        {
            return cursor;
        }

        int low = cursor;
        int step = 1;
        int high = cursor + step;
        while (high < ordered.Length && ordered[high].Key.TableId.Value < id)
        {
            low = high;
            step <<= 1;
            high = cursor + step;
        }

        return BinarySearchByTable(ordered, id, low + 1, Math.Min(high, ordered.Length));
    }

    private static int BinarySearchByTable(ReadOnlySpan<KeyValuePair<Span, ReplicationSet>> ordered, long table, int low, int high)
    {
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (ordered[middle].Key.TableId.Value < table)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    /// <summary>Lower bound of the probe in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    private static int BinarySearch(
        ReadOnlySpan<KeyValuePair<Span, ReplicationSet>> ordered, TableId table, ReadOnlySpan<byte> key, int low, int high)
    {
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (TableSpans.CompareToProbe(ordered[middle].Key, table, key) < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    /// <summary>Running minima and maxima over the visited sets.</summary>
    private struct Progress
    {
        public Ts CheckpointTs;
        public Ts ResolvedTs;
        public Ts LastSyncedTs;
        public Ts PullerResolvedTs;
        public Ts ResolvedOfSlowestSink;
        public int SlowestSink;
        public int SlowestPuller;

        public Progress()
        {
            CheckpointTs = Ts.Max;
            ResolvedTs = Ts.Max;
            PullerResolvedTs = Ts.Max;
            ResolvedOfSlowestSink = Ts.Max;
            SlowestSink = -1;
            SlowestPuller = -1;
        }

        public void Add(ReplicationSet set, int index)
        {
            var checkpoint = set.Checkpoint;
            if (SlowestSink < 0 || checkpoint.CheckpointTs < CheckpointTs
                || (checkpoint.CheckpointTs == CheckpointTs && checkpoint.ResolvedTs < ResolvedOfSlowestSink))
            {
                CheckpointTs = checkpoint.CheckpointTs;
                ResolvedOfSlowestSink = checkpoint.ResolvedTs;
                SlowestSink = index;
            }

            ResolvedTs = Ts.MinOf(ResolvedTs, checkpoint.ResolvedTs);
            LastSyncedTs = Ts.MaxOf(LastSyncedTs, checkpoint.LastSyncedTs);
            if (set.TryGetPullerEgressResolvedTs(out var puller) && (SlowestPuller < 0 || puller < PullerResolvedTs))
            {
                PullerResolvedTs = puller;
                SlowestPuller = index;
            }
        }
    }
}
