namespace Capstan.Core.Tests.Replication;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using static ManagerTestKit;

/// <summary>
/// A set whose holders were all found stopping after an owner change is Removing; once they have
/// stopped it is deleted, and the basic scheduler adds its (still current) span again. The new set
/// must start where the old holders stopped: TiCDC starts it at the changefeed checkpoint, so the
/// new holder re-sinks what the old ones had sunk (found by the graceful-drain owner-crash
/// scenario, seed 33).
/// </summary>
public class DeletedSetCheckpointTests
{
    [Fact(DisplayName = "Rebuilt set of stopping holders, deleted once they stopped, added again → starts at its own checkpoint, not the older changefeed checkpoint (TiCDC re-sinks)")]
    public void ReAddAfterDeletion_StartsAtTheDeletedSetsCheckpoint()
    {
        var manager = Rebuilt(10, ("a", Status(T(1), TableState.Stopping, 40, 40)));
        Assert.Equal(ReplicationSetState.Removing, manager.Set(T(1)).State);

        manager.Handle(Heartbeat("a", Status(T(1), TableState.Stopped, 40, 40)));
        Assert.False(manager.Spans.ContainsKey(T(1)));

        var outbox = manager.Tasks(new AddTableTask(T(1), "b", 30));
        var add = Assert.Single(outbox).DispatchTableRequest!.AddTable!;
        Assert.Equal(new Ts(40), add.Checkpoint.CheckpointTs);
    }

    [Fact(DisplayName = "Deleted set's checkpoint: a later changefeed checkpoint wins")]
    public void ReAddAfterDeletion_LaterChangefeedCheckpointWins()
    {
        var manager = Rebuilt(10, ("a", Status(T(1), TableState.Stopping, 40, 40)));
        manager.Handle(Heartbeat("a", Status(T(1), TableState.Stopped, 40, 40)));

        var outbox = manager.Tasks(new AddTableTask(T(1), "b", 50));
        Assert.Equal(new Ts(50), Assert.Single(outbox).DispatchTableRequest!.AddTable!.Checkpoint.CheckpointTs);
    }
}
