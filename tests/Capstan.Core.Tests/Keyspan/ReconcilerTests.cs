namespace Capstan.Core.Tests.Keyspan;

using Capstan.Core.Keyspan;
using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Spans;

public class ReconcilerTests
{
    /// <summary>Splitting on, every table with more than 0 regions is split (TiCDC's test settings).</summary>
    private static readonly SchedulerConfig SplitConfig = new() { EnableTableAcrossNodes = true, RegionThreshold = 0 };

    private static readonly Ts Checkpoint = new(100);

    /// <summary>Table 1 in four regions, table 2 in two (TiCDC's TestReconcile layout).</summary>
    private static (List<Span> All, FakeRegionSource Source) TwoTables() =>
        TableKeys.Prepare((1, 0, 1), (1, 1, 2), (1, 2, 3), (1, 3, 4), (2, 0, 2), (2, 2, 4));

    private static void AddSets(SpanMap<ReplicationSet> sets, IEnumerable<Span> spans)
    {
        foreach (var span in spans)
        {
            sets.Set(span, new ReplicationSet(span, Checkpoint));
        }
    }

    private static TableId[] Tables(params long[] ids) => [.. ids.Select(id => new TableId(id))];

    [Fact(DisplayName = "Reconcile: new table with 4 regions and 4 captures → split into 4 spans")]
    public void NewTable_SplitByRegions()
    {
        var (all, source) = TwoTables();
        var spans = new Reconciler(SplitConfig, source).Reconcile(Tables(1), new SpanMap<ReplicationSet>(), 4);
        Assert.Equal(all[..4], spans);
    }

    [Fact(DisplayName = "Reconcile: owner switch with every span alive → a new reconciler keeps the existing split without asking the region source")]
    public void OwnerSwitch_AllSpansExist_SplitKept()
    {
        var (all, source) = TwoTables();
        var sets = new SpanMap<ReplicationSet>();
        AddSets(sets, new Reconciler(SplitConfig, source).Reconcile(Tables(1), sets, 4));
        source.Fail = true;

        var spans = new Reconciler(SplitConfig, source).Reconcile(Tables(1), sets, 4);

        Assert.Equal(all[..4], spans);
        Assert.Equal(1, source.Calls);
    }

    [Fact(DisplayName = "Reconcile: table 2 created → its 2 spans follow table 1's spans")]
    public void TableCreated_ItsSpansAdded()
    {
        var (all, source) = TwoTables();
        var reconciler = new Reconciler(SplitConfig, source);
        var sets = new SpanMap<ReplicationSet>();
        AddSets(sets, reconciler.Reconcile(Tables(1), sets, 4));

        var spans = reconciler.Reconcile(Tables(1, 2), sets, 4);

        Assert.Equal(all, spans);
    }

    [Fact(DisplayName = "Reconcile: table 2 dropped → only table 1's spans remain")]
    public void TableDropped_ItsSpansRemoved()
    {
        var (all, source) = TwoTables();
        var reconciler = new Reconciler(SplitConfig, source);
        var sets = new SpanMap<ReplicationSet>();
        AddSets(sets, reconciler.Reconcile(Tables(1, 2), sets, 4));

        var spans = reconciler.Reconcile(Tables(1), sets, 4);

        Assert.Equal(all[..4], spans);
    }

    [Fact(DisplayName = "Reconcile: dropped table created again → split again from scratch")]
    public void TableDroppedAndCreatedAgain_SplitAgain()
    {
        var (all, source) = TwoTables();
        var reconciler = new Reconciler(SplitConfig, source);
        var sets = new SpanMap<ReplicationSet>();
        AddSets(sets, reconciler.Reconcile(Tables(1, 2), sets, 4));
        reconciler.Reconcile(Tables(1), sets, 4);
        foreach (var span in all[4..])
        {
            sets.Remove(span);
        }

        var spans = reconciler.Reconcile(Tables(1, 2), sets, 4);

        Assert.Equal(all, spans);
        Assert.Equal(3, source.Calls); // table 1 once, table 2 twice
    }

    [Theory(DisplayName = "Reconcile: owner switch after a capture died → the missing span comes back as a hole span")]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(1)]
    public void OwnerSwitch_OneSpanMissing_HoleRestoresIt(int missing)
    {
        var (all, source) = TwoTables();
        var reconciler = new Reconciler(SplitConfig, source);
        var sets = new SpanMap<ReplicationSet>();
        AddSets(sets, reconciler.Reconcile(Tables(1), sets, 4));
        reconciler.Reconcile(Tables(1), sets, 4); // fully covered: no longer "added by the reconciler"
        sets.Remove(all[missing]);

        var spans = reconciler.Reconcile(Tables(1), sets, 4);

        Assert.Equal(all[..4], spans);
        Assert.Equal(new TableId(1), spans[missing].TableId);
    }

    [Fact(DisplayName = "Reconcile: two adjacent middle spans missing → one hole span over both (holes are not split)")]
    public void TwoMiddleSpansMissing_MergedIntoOneHole()
    {
        var (all, source) = TwoTables();
        var reconciler = new Reconciler(SplitConfig, source);
        var sets = new SpanMap<ReplicationSet>();
        AddSets(sets, reconciler.Reconcile(Tables(1), sets, 4));
        reconciler.Reconcile(Tables(1), sets, 4);
        sets.Remove(all[1]);
        sets.Remove(all[2]);

        var spans = reconciler.Reconcile(Tables(1), sets, 4);

        Assert.Equal([all[0], new Span(1, all[1].StartKeyArray, all[2].EndKeyArray), all[3]], spans);
    }

    [Fact(DisplayName = "Reconcile: new owner finds a table partly covered → covered spans plus one span per gap, in key order")]
    public void NewReconciler_PartlyCovered_CoveredPlusHoles()
    {
        var (all, source) = TwoTables();
        var sets = new SpanMap<ReplicationSet>();
        AddSets(sets, [all[1], all[3]]);

        var spans = new Reconciler(SplitConfig, source).Reconcile(Tables(1), sets, 4);

        Assert.Equal(all[..4], spans);
        Assert.Equal(0, source.Calls);
    }

    [Fact(DisplayName = "Reconcile: batch add rate-limited → a table whose spans are only partly created keeps its original split")]
    public void BatchAddRateLimit_PartlyCreatedTableKeepsItsSplit()
    {
        var (all, source) = TableKeys.Prepare((2, 0, 2), (2, 2, 3), (2, 3, 4));
        var reconciler = new Reconciler(SplitConfig, source);
        var sets = new SpanMap<ReplicationSet>();

        Assert.Equal(all, reconciler.Reconcile(Tables(2), sets, 3));
        source.Fail = true; // a re-split would now give the whole table
        Assert.Equal(all, reconciler.Reconcile(Tables(2), sets, 3));
        AddSets(sets, [all[0]]);
        Assert.Equal(all, reconciler.Reconcile(Tables(2), sets, 3));
        Assert.Equal(1, source.Calls);
    }

    [Fact(DisplayName = "Reconcile: splitting disabled (the default) → one whole-table span per table")]
    public void SplittingDisabled_WholeTableSpans()
    {
        var (_, source) = TwoTables();
        var spans = new Reconciler(new SchedulerConfig { RegionThreshold = 0 }, source).Reconcile(Tables(1, 2), new SpanMap<ReplicationSet>(), 4);
        Assert.Equal([TableSpans.WholeTable(1), TableSpans.WholeTable(2)], spans);
        Assert.Equal(0, source.Calls);
    }

    [Fact(DisplayName = "Reconcile: no region source → one whole-table span per table")]
    public void NoRegionSource_WholeTableSpans()
    {
        var spans = new Reconciler(SplitConfig, null).Reconcile(Tables(3), new SpanMap<ReplicationSet>(), 4);
        Assert.Equal([TableSpans.WholeTable(3)], spans);
    }

    [Fact(DisplayName = "Reconcile: region source fails → whole-table span")]
    public void RegionSourceFails_WholeTableSpan()
    {
        var (_, source) = TwoTables();
        source.Fail = true;
        var spans = new Reconciler(SplitConfig with { WriteKeyThreshold = 1 }, source).Reconcile(Tables(1), new SpanMap<ReplicationSet>(), 4);
        Assert.Equal([TableSpans.WholeTable(1)], spans);
    }

    [Fact(DisplayName = "Reconcile: regions overlap or are out of order → whole-table span, never a broken cover")]
    public void RegionsOutOfOrder_WholeTableSpan()
    {
        var source = new FakeRegionSource()
            .Add(TableKeys.Inside(1, 3), TableSpans.TableEndKey(1), 100)
            .Add(TableSpans.TableStartKey(1), TableKeys.Inside(1, 3), 100)
            .Add(TableKeys.Inside(1, 1), TableKeys.Inside(1, 2), 100);
        var spans = new Reconciler(SplitConfig with { WriteKeyThreshold = 1 }, source).Reconcile(Tables(1), new SpanMap<ReplicationSet>(), 1);
        Assert.Equal([TableSpans.WholeTable(1)], spans);
        Assert.Equal(2, source.Calls); // both splitters tried
    }

    /// <summary>Table 1 in four regions, the first one hot.</summary>
    private static (List<Span> All, FakeRegionSource Source) HotFirstRegion()
    {
        var (all, _) = TableKeys.Prepare((1, 0, 1), (1, 1, 2), (1, 2, 3), (1, 3, 4));
        var source = new FakeRegionSource();
        ulong[] written = [1000, 0, 0, 0];
        for (int index = 0; index < all.Count; index++)
        {
            source.Add(all[index].StartKeyArray!, all[index].EndKeyArray!, written[index]);
        }

        return (all, source);
    }

    [Fact(DisplayName = "Reconcile: write-key threshold reached → the write-key splitter wins (hot region alone)")]
    public void WriteKeyThresholdReached_SplitByWrites()
    {
        var (all, source) = HotFirstRegion();
        var spans = new Reconciler(SplitConfig with { WriteKeyThreshold = 1000 }, source).Reconcile(Tables(1), new SpanMap<ReplicationSet>(), 1);
        Assert.Equal([all[0], new Span(1, all[1].StartKeyArray, all[2].EndKeyArray), all[3]], spans);
    }

    [Fact(DisplayName = "Reconcile: table writes below the write-key threshold → the region-count splitter decides")]
    public void WritesBelowThreshold_SplitByRegionCount()
    {
        var (all, source) = HotFirstRegion();
        var spans = new Reconciler(SplitConfig with { WriteKeyThreshold = 1001 }, source).Reconcile(Tables(1), new SpanMap<ReplicationSet>(), 1);
        Assert.Equal([new Span(1, all[0].StartKeyArray, all[1].EndKeyArray), all[2], all[3]], spans);
    }

    [Fact(DisplayName = "Reconcile: no alive capture → new tables stay whole")]
    public void NoAliveCapture_NoSplit()
    {
        var (_, source) = TwoTables();
        var spans = new Reconciler(SplitConfig, source).Reconcile(Tables(1), new SpanMap<ReplicationSet>(), 0);
        Assert.Equal([TableSpans.WholeTable(1)], spans);
    }

    [Fact(DisplayName = "Reconcile: tables listed out of order or twice → spans by ascending table id, each once (Go's order is random)")]
    public void TablesOutOfOrder_SpansInTableOrder()
    {
        var spans = new Reconciler(new SchedulerConfig(), null).Reconcile(Tables(30, 10, -5, 20, 10), new SpanMap<ReplicationSet>(), 3);
        Assert.Equal([TableSpans.WholeTable(-5), TableSpans.WholeTable(10), TableSpans.WholeTable(20), TableSpans.WholeTable(30)], spans);
    }

    [Fact(DisplayName = "Reconcile: sets cover a table with other spans than the remembered split → the result follows the sets (Go keeps returning its stale cache)")]
    public void FullyCoveredDifferently_ResultFollowsTheSets()
    {
        var (all, source) = TwoTables();
        var reconciler = new Reconciler(SplitConfig, source);
        var sets = new SpanMap<ReplicationSet>();
        Assert.Equal(all[..4], reconciler.Reconcile(Tables(1), sets, 4));
        AddSets(sets, [TableSpans.WholeTable(1)]);

        Assert.Equal([TableSpans.WholeTable(1)], reconciler.Reconcile(Tables(1), sets, 4));
    }

    [Fact(DisplayName = "Reconcile: unchanged tables and span keys → the same list instance")]
    public void UnchangedInputs_SameInstance()
    {
        var (_, source) = TwoTables();
        var reconciler = new Reconciler(SplitConfig, source);
        var sets = new SpanMap<ReplicationSet>();
        var tables = Tables(1, 2);
        var first = reconciler.Reconcile(tables, sets, 4);

        Assert.Same(first, reconciler.Reconcile(tables, sets, 4));
        Assert.Same(first, reconciler.Reconcile(Tables(1, 2), sets, 4)); // same content, new list
        AddSets(sets, first.Take(3));
        Assert.Same(first, reconciler.Reconcile(tables, sets, 4)); // keys changed, spans did not
        Assert.NotSame(first, reconciler.Reconcile(Tables(1), sets, 4));
    }

    [Fact(DisplayName = "Reconcile: sets of one table overlap → ReplicationSetInconsistentException (Go panics); fixed sets reconcile again")]
    public void OverlappingSets_ThrowThenRecover()
    {
        var (all, source) = TwoTables();
        var reconciler = new Reconciler(SplitConfig, source);
        var sets = new SpanMap<ReplicationSet>();
        var tables = Tables(1);
        AddSets(sets, reconciler.Reconcile(tables, sets, 4));
        var overlapping = new Span(1, all[0].StartKeyArray, all[1].EndKeyArray);
        AddSets(sets, [overlapping]);

        Assert.Throws<ReplicationSetInconsistentException>(() => reconciler.Reconcile(tables, sets, 4));
        Assert.Throws<ReplicationSetInconsistentException>(() => reconciler.Reconcile(tables, sets, 4));
        sets.Remove(overlapping);
        Assert.Equal(all[..4], reconciler.Reconcile(tables, sets, 4));
    }

    [Fact(DisplayName = "Reconcile: a walk that threw is redone by the next call with the same inputs, not answered from the stale cache")]
    public void FailedWalk_RedoneOnTheNextCall()
    {
        var reconciler = new Reconciler(new SchedulerConfig(), null);
        var sets = new SpanMap<ReplicationSet>();
        AddSets(sets, [TableKeys.Span(1, 0, 2), TableKeys.Span(1, 1, 4)]);
        Assert.Empty(reconciler.Reconcile(Tables(), sets, 1));
        var tables = Tables(1, 2);

        Assert.Throws<ReplicationSetInconsistentException>(() => reconciler.Reconcile(tables, sets, 1));
        Assert.Throws<ReplicationSetInconsistentException>(() => reconciler.Reconcile(tables, sets, 1));
        sets.Remove(TableKeys.Span(1, 0, 2));

        Assert.Equal([TableKeys.Span(1, 0, 1), TableKeys.Span(1, 1, 4), TableSpans.WholeTable(2)], reconciler.Reconcile(tables, sets, 1));
    }

    [Fact(DisplayName = "Reconcile: walking 10,000 fully covered tables after a key change allocates nothing per table")]
    public void SteadyStateWalk_NoPerTableAllocation()
    {
        const int count = 10_000;
        var reconciler = new Reconciler(new SchedulerConfig(), null);
        var sets = new SpanMap<ReplicationSet>(count);
        var tables = Tables([.. Enumerable.Range(1, count).Select(id => (long)id)]);
        AddSets(sets, reconciler.Reconcile(tables, sets, 3));
        var result = reconciler.Reconcile(tables, sets, 3);
        var unrelated = TableSpans.WholeTable(count + 1);

        for (int round = 0; round < 3; round++)
        {
            sets.Set(unrelated, new ReplicationSet(unrelated, Checkpoint));
            sets.Remove(unrelated);
            _ = sets.Ordered(); // the map's own re-sort is not the reconciler's cost
            long before = GC.GetAllocatedBytesForCurrentThread();
            var again = reconciler.Reconcile(tables, sets, 3);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.Same(result, again);
            // Less than a byte per table: one object per table would be at least 24 bytes each. (A
            // small constant can show up: the runtime's allocation context is sometimes refilled.)
            Assert.True(allocated < count, $"round {round}: {allocated} bytes for {count} tables");
        }
    }
}
