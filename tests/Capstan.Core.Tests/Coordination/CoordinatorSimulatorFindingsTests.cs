namespace Capstan.Core.Tests.Coordination;

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

    [Fact(DisplayName = "Simulator seed 1083 (small): a capture that leaves and comes back while another capture is still uninitialised → its new reports do not reach its former roles; the span gets exactly one prepare")]
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
}
