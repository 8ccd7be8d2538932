namespace Capstan.Core.Tests.Replication;

using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using static ManagerTestKit;
using static ReplicationTestKit;

/// <summary>
/// Regression tests for replication-manager bugs found by the cluster simulator
/// (src/Capstan.Simulation), named with the seed that found them
/// (replay: ./capstan simulate --seed N --profile small).
/// </summary>
public class ReplicationManagerSimulatorFindingsTests
{
    [Fact(DisplayName = "Simulator seed 95 (small): a table dropped mid-move whose destination dies → the ignored remove task ends when the set falls to Absent, and the set is then deleted (TiCDC keeps the task running forever)")]
    public void RemoveIgnoredDuringMove_SetFallsToAbsent_TaskIsReapedAndSetDeleted()
    {
        var manager = Rebuilt(10, ("a", ManagerTestKit.Status(T(1), TableState.Replicating, 100, 100)));
        manager.Tasks(new MoveTableTask(T(1), "b"));
        AssertRemove(Assert.Single(manager.Handle(AddResponse("b", ManagerTestKit.Status(T(1), TableState.Prepared, 100, 100)))), "a", T(1));
        manager.CaptureRemoved("b");
        Assert.Equal(ReplicationSetState.Commit, manager.Set(T(1)).State);

        // DROP TABLE while the set is in Commit: the remove is ignored but counts as running.
        Assert.Empty(manager.Tasks(new RemoveTableTask(T(1), "a")));
        Assert.True(manager.RunningTasks.ContainsKey(T(1)));

        // The old primary finishes stopping: nobody holds the span any more.
        manager.Handle(RemoveResponse("a", ManagerTestKit.Status(T(1), TableState.Stopped, 120, 120)));
        Assert.Equal(ReplicationSetState.Absent, manager.Set(T(1)).State);

        // The basic scheduler's next remove (no holder) deletes the orphan.
        Assert.Empty(manager.Tasks(new BurstBalanceTask([], [new RemoveTableTask(T(1), Capstan.Core.Model.CaptureId.None)], [])));
        Assert.False(manager.Spans.ContainsKey(T(1)));
        manager.Tasks();
        Assert.Equal(0, manager.RunningTasks.Count);
    }

    [Fact(DisplayName = "Simulator seed 95 (small): an add whose secondary reports Stopping falls back to Absent → the add task ends and the span is added again (TiCDC never re-adds it)")]
    public void AddFallsBackToAbsent_TaskIsReapedAndSpanAddedAgain()
    {
        var manager = new ReplicationManager(10);
        manager.Tasks(new AddTableTask(T(1), "a", 100));
        manager.Handle(Heartbeat("a", ManagerTestKit.Status(T(1), TableState.Stopping, 100, 100)));
        Assert.Equal(ReplicationSetState.Absent, manager.Set(T(1)).State);

        var messages = manager.Tasks(new BurstBalanceTask([new AddTableTask(T(1), "b", 100)], [], []));

        AssertAdd(Assert.Single(messages), "b", T(1), isSecondary: true, new Checkpoint(100, 100, 0));
        Assert.Equal(ReplicationSetState.Prepare, manager.Set(T(1)).State);
    }
}
