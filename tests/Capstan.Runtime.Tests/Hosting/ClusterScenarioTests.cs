namespace Capstan.Runtime.Tests.Hosting;

using Capstan.Core.Coordination;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Spans;
using Capstan.Runtime.Hosting;

/// <summary>End-to-end scenarios on the embedded cluster in manual step mode (fixed seeds, bounded steps).</summary>
public class ClusterScenarioTests
{
    [Fact(DisplayName = "Move: two-phase move keeps the table replicating; source and target never sink the same ts")]
    public async Task MoveTable_TwoPhase_NoGapNoDoubleSink()
    {
        var (cluster, changefeed) = await ClusterFixture.StartAsync(captures: 3, tables: 30, seed: 11);
        await using var _ = cluster;
        cluster.UntilAllReplicating(changefeed);
        cluster.WatchList.Watch(5);
        cluster.Step();
        var source = cluster.Snapshot(changefeed.Id).OwnerView!.Watched[0].Primary;
        var target = cluster.Captures.First(c => c.Id != source).Id;

        var result = await cluster.MoveTableAsync(changefeed.Id, 5, target);

        Assert.True(result.Accepted, result.Reason);
        var seen = new List<(ReplicationSetState, CaptureId, CaptureId)>();
        cluster.StepChecked(changefeed, s =>
        {
            var view = s.OwnerView!.Watched[0];
            if (seen.Count == 0 || seen[^1] != (view.State, view.Primary, view.Secondary))
            {
                seen.Add((view.State, view.Primary, view.Secondary));
            }

            return view.State == ReplicationSetState.Replicating && view.Primary == target;
        }, 100, "table 5 replicating on the target");

        Assert.Contains((ReplicationSetState.Prepare, source, target), seen);
        Assert.Contains((ReplicationSetState.Commit, source, target), seen);
        Assert.Equal((ReplicationSetState.Replicating, target, CaptureId.None), seen[^1]);
        cluster.StepChecked(changefeed, s => s.CheckpointLagMilliseconds < 500, 100, "checkpoint catches up");
        var report = cluster.AssertNoGap(changefeed);
        Assert.Empty(report.Overlaps);
        var (ranges, _) = cluster.Ledger.Get(changefeed.Id, TableSpans.WholeTable(5));
        Assert.Contains(ranges, r => r.Writer.Capture == source);
        Assert.Contains(ranges, r => r.Writer.Capture == target);
    }

    [Fact(DisplayName = "Move: many concurrent moves (rebalance onto a new capture) → no gap, no overlap")]
    public async Task Rebalance_NewCapture_GetsItsShareWithoutGaps()
    {
        var (cluster, changefeed) = await ClusterFixture.StartAsync(captures: 3, tables: 90, seed: 12);
        await using var _ = cluster;
        cluster.UntilAllReplicating(changefeed);

        var newcomer = await cluster.AddCaptureAsync();
        cluster.StepChecked(changefeed, s => s.OwnerView is { IsInitialized: true } o && o.CaptureStates.ContainsKey(newcomer.Id), 20, "newcomer initialised");
        var result = await cluster.RebalanceAsync(changefeed.Id);

        Assert.True(result.Accepted, result.Reason);
        cluster.StepChecked(changefeed, s => s.AllReplicating && s.IsBalanced && s.Captures.First(c => c.Id == newcomer.Id).Primaries > 0,
            200, "rebalanced onto the newcomer");
        var snapshot = cluster.Snapshot(changefeed.Id);
        Assert.True(snapshot.Captures.First(c => c.Id == newcomer.Id).Primaries >= 90 / 4 - 1, snapshot.ToString());
        cluster.StepChecked(changefeed, s => s.CheckpointLagMilliseconds < 500, 100, "checkpoint catches up");
        Assert.Empty(cluster.AssertNoGap(changefeed).Overlaps);
    }

    [Fact(DisplayName = "Drain: every table moves off the drained capture, which turns Stopping")]
    public async Task DrainCapture_MovesEveryTableOff()
    {
        var (cluster, changefeed) = await ClusterFixture.StartAsync(captures: 3, tables: 60, seed: 13);
        await using var _ = cluster;
        cluster.UntilAllReplicating(changefeed);
        var victim = cluster.Captures.First(c => c.Id != cluster.OwnerId).Id;

        var result = await cluster.DrainCaptureAsync(changefeed.Id, victim);

        Assert.Equal(DrainStatus.Accepted, result.Status);
        cluster.StepChecked(changefeed, s => s.AllReplicating && s.Captures.First(c => c.Id == victim).Primaries == 0, 300, "drained");
        Assert.Equal(0, cluster.ExecutorOf(victim, changefeed).SpanCount);
        Assert.Equal(Liveness.Stopping, cluster.Find(victim)!.Liveness.Value);
        var done = await cluster.DrainCaptureAsync(changefeed.Id, victim);
        Assert.Equal(DrainStatus.Done, done.Status);
        cluster.StepChecked(changefeed, s => s.CheckpointLagMilliseconds < 500, 100, "checkpoint catches up");
        Assert.Empty(cluster.AssertNoGap(changefeed).Overlaps);
    }

    [Fact(DisplayName = "Crash: a killed capture's tables replicate elsewhere; only its tail is replayed")]
    public async Task KillCapture_TablesRecoverElsewhere()
    {
        var (cluster, changefeed) = await ClusterFixture.StartAsync(captures: 3, tables: 60, seed: 14);
        await using var _ = cluster;
        cluster.UntilAllReplicating(changefeed);
        for (int i = 0; i < 30; i++)
        {
            cluster.Step();
        }

        var victim = cluster.Captures.First(c => c.Id != cluster.OwnerId).Id;
        int victimTables = cluster.Snapshot(changefeed.Id).Captures.First(c => c.Id == victim).Primaries;

        await cluster.KillCaptureAsync(victim);

        cluster.StepChecked(changefeed, s => s.AllReplicating && s.Captures.All(c => c.Id != victim), 200, "recovered elsewhere");
        var snapshot = cluster.Snapshot(changefeed.Id);
        Assert.Equal(60, snapshot.Captures.Sum(c => c.Primaries));
        cluster.StepChecked(changefeed, s => s.CheckpointLagMilliseconds < 500, 100, "checkpoint catches up");
        var report = cluster.AssertNoGap(changefeed);
        Assert.All(report.Overlaps, o => Assert.Equal(victim, o.Earlier.Capture));
        Assert.True(report.Overlaps.Count <= victimTables);
    }

    [Fact(DisplayName = "Crash with a session TTL: tables wait for the expiry, then recover")]
    public async Task KillCapture_WithSessionTtl_RecoversAfterExpiry()
    {
        var (cluster, changefeed) = await ClusterFixture.StartAsync(captures: 3, tables: 30, seed: 15, sessionTtlMilliseconds: 1_000);
        await using var _ = cluster;
        cluster.UntilAllReplicating(changefeed);
        var victim = cluster.Captures.First(c => c.Id != cluster.OwnerId).Id;

        await cluster.KillCaptureAsync(victim);
        cluster.Step();

        Assert.True(cluster.Membership.AliveCaptures.ContainsKey(victim));
        int steps = cluster.StepChecked(changefeed, s => s.AllReplicating && s.Captures.All(c => c.Id != victim), 200, "recovered");
        Assert.True(steps >= 1_000 / 50 - 2, $"recovered after {steps} steps, before the session expired");
        Assert.False(cluster.Membership.AliveCaptures.ContainsKey(victim));
        cluster.StepChecked(changefeed, s => s.CheckpointLagMilliseconds < 500, 100, "checkpoint catches up");
        cluster.AssertNoGap(changefeed);
    }

    [Theory(DisplayName = "Owner crash with moves in flight: the new owner rebuilds, finishes or restarts the moves; checkpoint never regresses")]
    [InlineData(21UL, 1)]
    [InlineData(22UL, 2)]
    [InlineData(23UL, 4)]
    [InlineData(24UL, 6)]
    [InlineData(25UL, 9)]
    public async Task KillOwner_WithMovesInFlight_RebuildsAndContinues(ulong seed, int stepsBeforeKill)
    {
        var (cluster, changefeed) = await ClusterFixture.StartAsync(captures: 4, tables: 40, seed: seed);
        await using var _ = cluster;
        cluster.UntilAllReplicating(changefeed);
        var owner = cluster.OwnerId;
        await StartMovesAwayFromAsync(cluster, changefeed, owner, count: 6);
        for (int i = 0; i < stepsBeforeKill; i++)
        {
            cluster.Step();
            ClusterFixture.AssertSingleReplicator(cluster, changefeed);
        }

        var checkpointBefore = cluster.Snapshot(changefeed.Id).CheckpointTs;

        await cluster.KillOwnerAsync();

        cluster.StepChecked(changefeed, s => !s.Owner.IsNone && s.Owner != owner && s.AllReplicating, 300, "new owner, all replicating");
        var after = cluster.Snapshot(changefeed.Id);
        Assert.True(after.OwnerView!.Revision.Value > 1);
        cluster.StepChecked(changefeed, s => s.CheckpointLagMilliseconds < 500 && s.CheckpointTs > checkpointBefore, 200, "checkpoint continues");
        var report = cluster.CheckGaps(changefeed.Id);
        Assert.Empty(report.Gaps);
        foreach (var overlap in report.Overlaps)
        {
            // Only the crashed owner's own tail may be applied again. A move whose source had
            // stopped before the owner read its report is committed at the source's final
            // checkpoint (the agent keeps reporting it, docs/AGENT.md "Kept stops").
            Assert.True(overlap.IsReplayAfterCrash, $"seed {seed}: unexpected double sink {overlap}");
            Assert.Equal(owner, overlap.Earlier.Capture);
        }
    }

    [Fact(DisplayName = "Owner crash after the move source stopped, before the owner heard it → the target starts at the source's final checkpoint")]
    public async Task KillOwner_AfterSourceStoppedBeforeOwnerHeard_NoDoubleSink()
    {
        var (cluster, changefeed) = await ClusterFixture.StartAsync(captures: 4, tables: 40, seed: 23);
        await using var _ = cluster;
        cluster.UntilAllReplicating(changefeed);
        var owner = cluster.OwnerId;
        await StartMovesAwayFromAsync(cluster, changefeed, owner, count: 6);
        for (int i = 0; i < 4; i++)
        {
            cluster.Step();
        }

        await cluster.KillOwnerAsync();

        cluster.StepChecked(changefeed, s => !s.Owner.IsNone && s.AllReplicating, 300, "new owner, all replicating");
        cluster.StepChecked(changefeed, s => s.CheckpointLagMilliseconds < 500, 200, "checkpoint continues");
        Assert.Equal(0, cluster.AssertNoGap(changefeed).DoubleSinkCount);
    }

    [Theory(DisplayName = "Owner crash while draining a gracefully stopping capture → it leaves only after the successor took its final checkpoints; no double sink")]
    [InlineData(31UL, 3)]
    [InlineData(32UL, 5)]
    [InlineData(33UL, 7)]
    [InlineData(34UL, 9)]
    public async Task KillOwner_WhileDrainingGracefulStop_NoDoubleSink(ulong seed, int stepsBeforeKill)
    {
        var (cluster, changefeed) = await ClusterFixture.StartAsync(captures: 4, tables: 40, seed: seed);
        await using var _ = cluster;
        cluster.UntilAllReplicating(changefeed);
        var owner = cluster.OwnerId;
        var victim = cluster.Captures.First(c => c.Id != owner);
        cluster.StopCapture(victim.Id);
        for (int i = 0; i < stepsBeforeKill; i++)
        {
            cluster.Step();
        }

        await cluster.KillOwnerAsync();

        cluster.StepChecked(changefeed, s => !s.Owner.IsNone && s.Owner != owner && s.AllReplicating && victim.State == CaptureNodeState.Stopped,
            2_000, "new owner, all replicating, the victim left");
        cluster.StepChecked(changefeed, s => s.CheckpointLagMilliseconds < 500, 200, "checkpoint continues");
        var report = cluster.CheckGaps(changefeed.Id);
        Assert.Empty(report.Gaps);
        Assert.True(report.DoubleSinkCount == 0, $"seed {seed}: {report.Describe(10)}");
    }

    /// <summary>Starts up to <paramref name="count"/> manual moves between captures other than <paramref name="owner"/>.</summary>
    private static async Task<Dictionary<TableId, CaptureId>> StartMovesAwayFromAsync(
        EmbeddedCluster cluster, Capstan.Runtime.Metadata.ChangefeedInfo changefeed, CaptureId owner, int count)
    {
        var others = cluster.Captures.Where(c => c.Id != owner).Select(c => c.Id).ToList();
        for (long table = 1; table <= 40; table++)
        {
            cluster.WatchList.Watch(table);
        }

        cluster.Step();
        var moves = new Dictionary<TableId, CaptureId>();
        foreach (var view in cluster.Snapshot(changefeed.Id).OwnerView!.Watched)
        {
            if (view.Primary != owner && moves.Count < count)
            {
                var target = others.First(c => c != view.Primary);
                var result = await cluster.MoveTableAsync(changefeed.Id, view.Span.TableId, target);
                Assert.True(result.Accepted, result.Reason);
                moves[view.Span.TableId] = target;
            }
        }

        return moves;
    }

    [Fact(DisplayName = "Restart: a capture restarted under the same id (new epoch) is initialised again and gets tables")]
    public async Task RestartCapture_SameIdNewEpoch_GetsTablesAgain()
    {
        var (cluster, changefeed) = await ClusterFixture.StartAsync(captures: 3, tables: 30, seed: 16, ClusterFixture.FastBalance);
        await using var _ = cluster;
        cluster.UntilAllReplicating(changefeed);
        var victim = cluster.Captures.First(c => c.Id != cluster.OwnerId);
        var oldEpoch = victim.Epoch;

        var restarted = await cluster.RestartCaptureAsync(victim.Id);

        Assert.NotEqual(oldEpoch, restarted.Epoch);
        cluster.StepChecked(changefeed, s => s.AllReplicating
            && cluster.TryExecutorOf(restarted.Id, changefeed)?.CountByState()[(int)TableState.Replicating] > 0, 400,
            "restarted capture holds tables again");
        cluster.StepChecked(changefeed, s => s.CheckpointLagMilliseconds < 500, 100, "checkpoint catches up");
        var report = cluster.AssertNoGap(changefeed);
        Assert.All(report.Overlaps, o => Assert.Equal(new Capstan.Runtime.Workload.SinkWriter(victim.Id, oldEpoch), o.Earlier));
    }

    [Fact(DisplayName = "Graceful stop: the capture is drained by the owner, then leaves; nothing is replayed")]
    public async Task StopCapture_Graceful_DrainedThenLeaves()
    {
        var (cluster, changefeed) = await ClusterFixture.StartAsync(captures: 3, tables: 30, seed: 17);
        await using var _ = cluster;
        cluster.UntilAllReplicating(changefeed);
        var victim = cluster.Captures.First(c => c.Id != cluster.OwnerId);

        cluster.StopCapture(victim.Id);

        cluster.StepChecked(changefeed, s => s.AllReplicating && victim.State == CaptureNodeState.Stopped, 300, "drained and left");
        Assert.False(cluster.Membership.AliveCaptures.ContainsKey(victim.Id));
        cluster.StepChecked(changefeed, s => s.CheckpointLagMilliseconds < 500, 100, "checkpoint catches up");
        Assert.Empty(cluster.AssertNoGap(changefeed).Overlaps);
    }

    [Fact(DisplayName = "Graceful stop of the owner: it resigns, the new owner drains it, it leaves; nothing is replayed")]
    public async Task StopOwner_Graceful_ResignsThenDrained()
    {
        var (cluster, changefeed) = await ClusterFixture.StartAsync(captures: 3, tables: 30, seed: 18);
        await using var _ = cluster;
        cluster.UntilAllReplicating(changefeed);
        var owner = cluster.Find(cluster.OwnerId)!;

        cluster.StopCapture(owner.Id);

        cluster.StepChecked(changefeed, s => s.AllReplicating && owner.State == CaptureNodeState.Stopped, 300, "owner drained and left");
        Assert.NotEqual(owner.Id, cluster.OwnerId);
        cluster.StepChecked(changefeed, s => s.CheckpointLagMilliseconds < 500, 100, "checkpoint catches up");
        Assert.Empty(cluster.AssertNoGap(changefeed).Overlaps);
    }

    [Fact(DisplayName = "Determinism: the same seed gives the same cluster history")]
    public async Task SameSeed_SameHistory()
    {
        async Task<string> RunAsync()
        {
            var (cluster, changefeed) = await ClusterFixture.StartAsync(captures: 3, tables: 20, seed: 99);
            await using var _ = cluster;
            cluster.UntilAllReplicating(changefeed);
            await cluster.KillCaptureAsync("capture-2");
            cluster.UntilAllReplicating(changefeed);
            for (int i = 0; i < 10; i++)
            {
                cluster.Step();
            }

            return cluster.Snapshot(changefeed.Id) + "\n" + cluster.CheckGaps(changefeed.Id).Describe();
        }

        Assert.Equal(await RunAsync(), await RunAsync());
    }
}
