namespace Capstan.Core.Tests.Coordination;

using Capstan.Core.Coordination;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using static CoordinatorHarness;

/// <summary>
/// Regression tests for coordinator bugs found by the cluster simulator (src/Capstan.Simulation);
/// each names the simulator seed that found it. Replay with ./capstan simulate --seed N --profile small.
/// </summary>
public class CoordinatorSimulatorFindingsTests
{
    [Fact(DisplayName = "Simulator seed 11 (small): a table created while the host's persisted checkpoint lags behind the last watermark starts at that watermark, so the checkpoint never goes back (TiCDC adds it at the lagging value)")]
    public void NewTable_WhilePersistedCheckpointLags_StartsAtTheReturnedWatermark()
    {
        var h = new CoordinatorHarness();
        h.Tables.Add(1);
        h.SetAlive("a");
        h.CheckpointTs = new Ts(50);
        var initialised = h.Initialise(new Dictionary<string, TableStatus[]> { ["a"] = [Replicating(1, checkpoint: 100, resolved: 100)] });
        Assert.Equal(new Ts(100), initialised.Watermark.CheckpointTs);

        // The host's write of 100 is still in flight: it passes 50 again, and a table is created.
        h.Tables.Add(2);
        var result = h.Tick();

        var add = Assert.Single(result.Outbox, m => m.Type == MessageType.DispatchTableRequest);
        Assert.Equal(new Ts(100), add.DispatchTableRequest!.AddTable!.Checkpoint.CheckpointTs);
        Assert.Equal(new Ts(100), h.Set(2).Checkpoint.CheckpointTs);
        Assert.Equal(new Ts(100), result.Watermark.CheckpointTs);
    }

    [Fact(DisplayName = "Simulator seed 11 (small): with no tables the checkpoint follows the barrier; a table created then starts at that checkpoint, not at the host's lagging one")]
    public void NewTable_AfterBarrierOnlyCheckpoint_DoesNotPullTheCheckpointBack()
    {
        var h = new CoordinatorHarness { GlobalBarrierTs = new Ts(500) };
        h.SetAlive("a");
        h.CheckpointTs = new Ts(100);
        var initialised = h.Initialise(new Dictionary<string, TableStatus[]> { ["a"] = [] });
        Assert.Equal(new Ts(500), initialised.Watermark.CheckpointTs);

        h.Tables.Add(7);
        var result = h.Tick();

        var add = Assert.Single(result.Outbox, m => m.Type == MessageType.DispatchTableRequest);
        Assert.Equal(new Ts(500), add.DispatchTableRequest!.AddTable!.Checkpoint.CheckpointTs);
        Assert.Equal(new Ts(500), result.Watermark.CheckpointTs);
    }

    [Fact(DisplayName = "Simulator seed 2620 (small): a capture that leaves and comes back while another capture is still uninitialised → its new reports do not reach its former roles; the span gets exactly one prepare")]
    public void CaptureBackBeforeItsRemovalApplies_ReportsWaitForTheRemoval()
    {
        var h = new CoordinatorHarness();
        h.Tables.Add(1);
        h.SetAlive("a", "b");
        h.Initialise(new Dictionary<string, TableStatus[]> { ["a"] = [], ["b"] = [Status(1, TableState.Preparing)] });
        Assert.Equal(ReplicationSetState.Prepare, h.Set(1).State);

        h.SetAlive("a", "b", "c");
        h.Tick(); // c joins and is not initialised yet
        h.SetAlive("a", "c");
        h.Tick(); // b leaves: its removal waits for c
        h.SetAlive("a", "b", "c");
        h.Tick(); // b is back (a new incarnation) before the removal applied

        var result = h.Tick(h.Response("c"), h.Response("b", "epoch-b2", Status(1, TableState.Absent)));

        var adds = result.Outbox.Where(m => m.DispatchTableRequest?.AddTable is not null).ToList();
        var add = Assert.Single(adds);
        Assert.Equal(add.To, h.Set(1).Secondary);
        Assert.Equal(1, h.Coordinator.Counters.DroppedPendingRemoval);
    }

    [Fact(DisplayName = "Simulator seed 35 (small): a drain target that restarts (new processor epoch) is no longer drained; its new incarnation gets no stopping heartbeat")]
    public void DrainTargetRestarts_DrainEnds()
    {
        var h = new CoordinatorHarness(new SchedulerConfig { HeartbeatTicks = 1, CheckBalanceIntervalTicks = 1_000_000 });
        h.Tables.Add(1);
        h.SetAlive("a", "b");
        h.Initialise(new Dictionary<string, TableStatus[]> { ["a"] = [], ["b"] = [Replicating(1)] });
        Assert.Equal(DrainStatus.Accepted, h.Coordinator.DrainCapture("b").Status);
        Assert.True(HeartbeatTo("b", h.Tick()).IsStopping);

        var afterRestart = h.Tick(h.Response("b", "epoch-b2"));

        Assert.True(h.Coordinator.DrainingTarget.IsNone);
        Assert.False(HeartbeatTo("b", afterRestart).IsStopping);
    }

    [Fact(DisplayName = "Simulator seed 35 (small): a drain target that leaves membership is forgotten; when it comes back it is not drained")]
    public void DrainTargetLeaves_DrainEnds()
    {
        var h = new CoordinatorHarness(new SchedulerConfig { HeartbeatTicks = 1, CheckBalanceIntervalTicks = 1_000_000 });
        h.Tables.Add(1);
        h.SetAlive("a", "b");
        h.Initialise(new Dictionary<string, TableStatus[]> { ["a"] = [], ["b"] = [Replicating(1)] });
        Assert.Equal(DrainStatus.Accepted, h.Coordinator.DrainCapture("b").Status);

        h.SetAlive("a");
        h.Tick();
        Assert.True(h.Coordinator.DrainingTarget.IsNone);
        h.SetAlive("a", "b");
        var back = h.Tick();

        Assert.All(back.Outbox.Where(m => m.To == "b" && m.Type == MessageType.Heartbeat), m => Assert.False(m.Heartbeat!.IsStopping));
    }

    [Fact(DisplayName = "Simulator seed 211 (small): source and destination of a move both restart in one tick → the promotion of the destination's former incarnation sends no commit to its new incarnation")]
    public void MoveSourceAndDestinationRestartTogether_NoCommitToTheNewIncarnation()
    {
        var h = new CoordinatorHarness();
        h.Tables.Add(1);
        h.SetAlive("a", "b", "c");
        h.Initialise(new Dictionary<string, TableStatus[]> { ["a"] = [], ["b"] = [Replicating(1)], ["c"] = [Status(1, TableState.Prepared)] });
        Assert.Equal(ReplicationSetState.Commit, h.Set(1).State);

        var result = h.Tick(h.Response("b", "epoch-b2"), h.Response("c", "epoch-c2"));

        Assert.DoesNotContain(result.Outbox, m => m.DispatchTableRequest?.AddTable is { IsSecondary: false } && m.To == "c");
        Assert.Equal(2, h.Coordinator.Counters.CaptureRestarts);
    }

    [Fact(DisplayName = "Simulator seed 211 (small): a request from a former incarnation's role to a capture back before its removal applied carries no epoch, so the new incarnation drops it")]
    public void RequestToCaptureBackBeforeItsRemovalApplies_CarriesNoEpoch()
    {
        var h = new CoordinatorHarness();
        h.Tables.Add(1);
        h.SetAlive("a", "b", "c");
        h.Initialise(new Dictionary<string, TableStatus[]> { ["a"] = [], ["b"] = [Replicating(1)], ["c"] = [Status(1, TableState.Prepared)] });
        h.SetAlive("a", "b", "c", "d");
        h.Tick(); // d joins, not initialised yet
        h.SetAlive("a", "b", "d");
        h.Tick(); // c leaves: its removal waits for d
        h.SetAlive("a", "b", "c", "d");
        h.Tick(); // c is back
        h.Tick(h.Response("c", "epoch-c2")); // and initialised as a new incarnation; d still is not
        Assert.Equal("epoch-c2", h.Coordinator.Captures[new CaptureId("c")].Epoch.Value);

        // The old primary stops: the set promotes c's former incarnation and commits it.
        var result = h.Tick(h.Response("b", Status(1, TableState.Stopped, checkpoint: 5)));

        var commit = Assert.Single(result.Outbox, m => m.DispatchTableRequest?.AddTable is { IsSecondary: false });
        Assert.Equal(new CaptureId("c"), commit.To);
        Assert.True(commit.Header.ProcessorEpoch.IsNone);
    }

    private static Heartbeat HeartbeatTo(string capture, TickResult result) =>
        Assert.Single(result.Outbox, m => m.To == capture && m.Type == MessageType.Heartbeat).Heartbeat!;
}
