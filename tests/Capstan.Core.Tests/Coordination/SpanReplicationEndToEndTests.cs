namespace Capstan.Core.Tests.Coordination;

using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Spans;
using Capstan.Core.Tests.Keyspan;

/// <summary>
/// Span replication through the whole core (issue 8, "Tests that show it", bullet 2): a
/// coordinator with EnableTableAcrossNodes and a fake region source, real agents, and executors
/// whose checkpoints follow a clock (<see cref="MiniCluster"/>).
/// </summary>
public class SpanReplicationEndToEndTests
{
    private static SchedulerConfig SplitConfig(int addTableBatchSize = 50) => new()
    {
        EnableTableAcrossNodes = true,
        RegionThreshold = 0,
        HeartbeatTicks = 1,
        CheckBalanceIntervalTicks = 1_000_000,
        AddTableBatchSize = addTableBatchSize,
    };

    /// <summary>Table 1 in six regions (so six spans with three captures), table 2 in one (a whole-table span).</summary>
    private static (List<Span> Table1, FakeRegionSource Source) SixRegions()
    {
        var table1 = new List<Span>
        {
            new(1, TableSpans.TableStartKey(1), TableKeys.Inside(1, 1)),
            Between(1, 1, 2), Between(1, 2, 3), Between(1, 3, 5), Between(1, 5, 6),
            new(1, TableKeys.Inside(1, 6), TableSpans.TableEndKey(1)),
        };
        var source = new FakeRegionSource();
        foreach (var span in table1)
        {
            source.Add(span.StartKeyArray!, span.EndKeyArray!);
        }

        source.Add(TableSpans.TableStartKey(2), TableSpans.TableEndKey(2));
        return (table1, source);
    }

    private static Span Between(long table, byte from, byte to) => new(table, TableKeys.Inside(table, from), TableKeys.Inside(table, to));

    private static MiniCluster SplitCluster(FakeRegionSource source, int addTableBatchSize = 50)
    {
        var cluster = new MiniCluster(SplitConfig(addTableBatchSize), "a", ["a", "b", "c"], source);
        cluster.SetTables(1, 2);
        return cluster;
    }

    private static List<Span> SpansOf(MiniCluster cluster, long table)
    {
        var (start, end) = TableSpans.TableRange(table);
        return cluster.Coordinator.ReplicationSets.Range(start, end).ToArray().Select(entry => entry.Key).ToList();
    }

    private static ReplicationSet SetOf(MiniCluster cluster, Span span) =>
        cluster.Coordinator.ReplicationSets.TryGetValue(span, out var set) ? set : throw new KeyNotFoundException(span.ToString());

    [Fact(DisplayName = "Split table: six spans placed across three captures; the changefeed checkpoint is the minimum over spans, held by a slow span and released when it catches up")]
    public void SplitTable_CheckpointIsMinimumOverSpans()
    {
        var (table1, source) = SixRegions();
        var cluster = SplitCluster(source);
        cluster.Settle();

        Assert.Equal(table1, SpansOf(cluster, 1));
        Assert.Equal([TableSpans.WholeTable(2)], SpansOf(cluster, 2));
        Assert.Equal(3, table1.Select(span => SetOf(cluster, span).Primary).Distinct().Count());

        // The third span's sink stalls.
        var slow = table1[2];
        var holder = SetOf(cluster, slow).Primary;
        cluster.Executor(holder).Frozen.Add(slow);
        cluster.Run(2);
        var stalledAt = cluster.Executor(holder).CheckpointOf(slow);
        cluster.Run(20);

        Assert.Equal(stalledAt, cluster.LastResult!.Watermark.CheckpointTs);
        Assert.Equal(slow, cluster.Coordinator.SlowestSink);
        Assert.True(SetOf(cluster, table1[0]).Checkpoint.CheckpointTs.Value >= stalledAt.Value + 19, "the other spans kept going");

        cluster.Executor(holder).Frozen.Clear();
        cluster.Run(3);
        Assert.True(cluster.LastResult!.Watermark.CheckpointTs.Value >= cluster.Now.Value - 2, $"{cluster.LastResult.Watermark} at {cluster.Now}");
    }

    [Fact(DisplayName = "Split table: a capture holding two spans dies → the checkpoint stays at their last checkpoint until both are re-added elsewhere (same keys) and catch up")]
    public void SpanHolderDies_CheckpointHeldUntilReadded()
    {
        var (table1, source) = SixRegions();
        var cluster = SplitCluster(source);
        cluster.Settle();
        var lost = table1.Where(span => SetOf(cluster, span).Primary == "c").ToList();
        Assert.Equal(2, lost.Count);

        // c's sinks stall, then c dies: the coordinator only ever saw their checkpoints up to the stall.
        foreach (var span in lost)
        {
            cluster.Executor("c").Frozen.Add(span);
        }

        cluster.Run(2);
        var lastSeen = lost.Min(span => SetOf(cluster, span).Checkpoint.CheckpointTs);
        cluster.Kill("c");
        int heldTicks = 0;
        while (!lost.All(span => SetOf(cluster, span).State == ReplicationSetState.Replicating) || heldTicks == 0)
        {
            var result = cluster.Step();
            Assert.True(result.Watermark.CheckpointTs <= lastSeen, $"{result.Watermark} passed {lastSeen}: {cluster.Describe()}");
            Assert.All(lost, span => Assert.False(SetOf(cluster, span).HasCapture("c")));
            Assert.True(++heldTicks < 50, "the lost spans were never re-added");
        }

        cluster.Settle();
        Assert.Equal(table1, SpansOf(cluster, 1)); // the same spans, re-added, not re-split
        Assert.All(lost, span => Assert.Contains(SetOf(cluster, span).Primary.Value, new[] { "a", "b" }));
        cluster.Run(3);
        Assert.True(cluster.LastResult!.Watermark.CheckpointTs.Value >= cluster.Now.Value - 2);
    }

    [Fact(DisplayName = "Owner fail-over, every capture alive: a NEW coordinator fed the agents' heartbeat responses keeps the same spans on the same captures, never asks the region source, and the checkpoint does not regress")]
    public void OwnerFailOver_KeepsSpans()
    {
        var (table1, source) = SixRegions();
        var cluster = SplitCluster(source);
        cluster.Settle();
        cluster.Run(5);
        var placement = cluster.Placement();
        int calls = source.Calls;
        var checkpoint = cluster.Checkpoint;

        // The region source is down: a re-split could not even be attempted without a call.
        source.Fail = true;
        cluster.FailOver("b");
        cluster.Settle();

        Assert.Equal(placement, cluster.Placement());
        Assert.Equal(table1, SpansOf(cluster, 1));
        Assert.Equal(calls, source.Calls);
        Assert.True(cluster.Checkpoint >= checkpoint);
        Assert.Empty(cluster.Coordinator.History.Snapshot()); // nothing was added, moved or removed
        cluster.Run(3);
        Assert.True(cluster.LastResult!.Watermark.CheckpointTs.Value >= cluster.Now.Value - 2);
    }

    [Fact(DisplayName = "Owner fail-over with a span holder dead: its two spans are holes, the table is not covered so the checkpoint cannot proceed until both are re-added; the holes become exactly the old spans again")]
    public void OwnerFailOver_HolderDead_HolesBlockCheckpoint()
    {
        var (table1, source) = SixRegions();
        var cluster = SplitCluster(source);
        cluster.Settle();
        var lost = table1.Where(span => SetOf(cluster, span).Primary == "c").ToList();
        Assert.Equal(2, lost.Count);
        int calls = source.Calls;

        // c dies and the owner moves to b at the same time; the new coordinator adds one span per tick.
        cluster.Kill("c");
        cluster.FailOver("b", SplitConfig(addTableBatchSize: 1));
        var results = new List<(int Holes, bool CanProceed)>();
        for (int i = 0; i < 6; i++)
        {
            var result = cluster.Step();
            if (cluster.Coordinator.IsInitialized)
            {
                int holes = table1.Count(span => !cluster.Coordinator.ReplicationSets.ContainsKey(span));
                results.Add((holes, result.Watermark.CanProceed));
            }
        }

        // First initialised tick: one hole re-added (batch size 1), one still open → cannot proceed.
        Assert.Equal((1, false), results[0]);
        Assert.Contains((0, true), results);
        Assert.All(results, r => Assert.Equal(r.Holes == 0, r.CanProceed));

        cluster.Settle();
        Assert.Equal(table1, SpansOf(cluster, 1));
        Assert.Equal(calls, source.Calls);
        Assert.All(lost, span => Assert.NotEqual(new CaptureId("c"), SetOf(cluster, span).Primary));
    }

    [Fact(DisplayName = "New split table added one span per tick (batch size 1): the checkpoint cannot proceed until every span of its key range has a set")]
    public void NewSplitTable_CoveredOnlyWhenComplete()
    {
        var (table1, source) = SixRegions();
        var cluster = SplitCluster(source, addTableBatchSize: 1);
        cluster.SetTables(2);
        cluster.Settle();
        Assert.True(cluster.LastResult!.Watermark.CanProceed);

        cluster.SetTables(1, 2);
        var sets = new List<int>();
        for (int i = 0; i < 8; i++)
        {
            var result = cluster.Step();
            int count = SpansOf(cluster, 1).Count;
            sets.Add(count);
            Assert.True(result.Watermark.CanProceed == (count == table1.Count), $"{count} of {table1.Count} spans have sets, watermark {result.Watermark}");
        }

        Assert.Equal([1, 2, 3, 4, 5, 6, 6, 6], sets);
    }
}
