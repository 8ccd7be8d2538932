namespace Capstan.Core.Tests.Replication;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;
using static ManagerTestKit;
using static ReplicationTestKit;

public class ReplicationManagerUnitTests
{
    [Fact]
    public void Constructor_ConcurrencyBelowOne_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReplicationManager(0));
    }

    [Fact(DisplayName = "Rebuild: the first inconsistent span aborts; sets built for earlier spans stay")]
    public void HandleCaptureChanges_InconsistentInit_KeepsEarlierSets()
    {
        var manager = new ReplicationManager(1);
        var init = Init(
            ("1", ManagerTestKit.Status(T(1), TableState.Replicating)),
            ("1", ManagerTestKit.Status(T(2), TableState.Replicating)),
            ("2", ManagerTestKit.Status(T(2), TableState.Replicating)),
            ("2", ManagerTestKit.Status(T(3), TableState.Replicating)));
        Assert.Throws<ReplicationSetMultiplePrimaryException>(() => manager.HandleCaptureChanges(init, null, 0, []));
        Assert.True(manager.Spans.ContainsKey(T(1)));
        Assert.False(manager.Spans.ContainsKey(T(2)));
        Assert.False(manager.Spans.ContainsKey(T(3)));
    }

    [Fact(DisplayName = "Reaping: a running task stays while its set prepares and is reaped once it replicates")]
    public void HandleTasks_ReapsOnlyFinishedTasks()
    {
        var manager = new ReplicationManager(1);
        manager.Tasks(new AddTableTask(T(1), "1", 0));
        Assert.Empty(manager.Tasks());
        Assert.True(manager.RunningTasks.ContainsKey(T(1))); // still Prepare

        manager.Handle(AddResponse("1", ManagerTestKit.Status(T(1), TableState.Prepared)));
        manager.Tasks();
        Assert.True(manager.RunningTasks.ContainsKey(T(1))); // Commit
        Assert.Empty(manager.Tasks(new AddTableTask(T(2), "1", 0) { Accept = () => Assert.Fail("limit reached") }));

        manager.Handle(Heartbeat("1", ManagerTestKit.Status(T(1), TableState.Replicating)));
        Assert.Single(manager.Tasks(new AddTableTask(T(2), "1", 0))); // reaped first, then accepted
        Assert.False(manager.RunningTasks.ContainsKey(T(1)));
    }

    [Fact(DisplayName = "Add task on an existing non-Absent set: accepted and recorded, but the set ignores it")]
    public void HandleTasks_AddOnReplicatingSet_AcceptedButIgnored()
    {
        var manager = Rebuilt(1, ("1", ManagerTestKit.Status(T(1), TableState.Replicating)));
        int accepted = 0;
        Assert.Empty(manager.Tasks(new AddTableTask(T(1), "2", 0) { Accept = () => accepted++ }));
        Assert.Equal(1, accepted);
        Assert.Equal(new CaptureId("1"), manager.Set(T(1)).Primary);
    }

    private sealed record UnknownTask : ScheduleTask
    {
        public override string Kind => "unknown";
    }

    [Fact]
    public void HandleTasks_UnknownTaskKind_Throws()
    {
        var manager = new ReplicationManager(1);
        Assert.Throws<ArgumentException>(() => manager.Tasks(new UnknownTask()));
    }

    [Fact]
    public void HandleAddTable_WithoutCapture_Throws()
    {
        var set = new ReplicationSet(T1, 0);
        Assert.Throws<ArgumentException>(() => set.HandleAddTable(CaptureId.None, []));
        Assert.Equal(ReplicationSetState.Absent, set.State);
    }

    [Fact(DisplayName = "Watermark: a keyless span {T} does not cover table T (it sorts before the table's row range)")]
    public void AdvanceCheckpoint_KeylessSpan_DoesNotCoverTheTable()
    {
        var manager = Rebuilt(1, ("1", ManagerTestKit.Status(new Span(4), TableState.Replicating, 5, 5)));
        var ranges = new TableRanges();
        ranges.UpdateTables([4]);
        Assert.Equal(Watermark.CannotProceed, manager.AdvanceCheckpoint(ranges, 10, 10));
    }

    [Fact(DisplayName = "Watermark: spans of tables outside the current list are not visited")]
    public void AdvanceCheckpoint_IgnoresOtherTables()
    {
        var manager = Rebuilt(1,
            ("1", ManagerTestKit.Status(T(1), TableState.Replicating, 1, 1)),
            ("1", ManagerTestKit.Status(T(2), TableState.Replicating, 8, 9)),
            ("1", ManagerTestKit.Status(T(3), TableState.Replicating, 2, 2)));
        var ranges = new TableRanges();
        ranges.UpdateTables([2]);
        Assert.Equal(new Watermark(8, 9, 0, 0), manager.AdvanceCheckpoint(ranges, 10, 10));
        Assert.Equal(T(2), manager.SlowestSink);
        Assert.Null(manager.LastMissingTable);
    }

    [Fact]
    public void Watermark_CanProceed_IsFalseOnlyForZeroCheckpoint()
    {
        Assert.False(Watermark.CannotProceed.CanProceed);
        Assert.Equal(default, Watermark.CannotProceed);
        Assert.True(new Watermark(1, 0, 0, 0).CanProceed);
        Assert.False(new Watermark(0, 5, 5, 5).CanProceed);
    }
}
