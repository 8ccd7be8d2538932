namespace Capstan.Core.Tests.Replication;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;
using static ManagerTestKit;
using static ReplicationTestKit;

/// <summary>The acceptance scenarios of spec §10.2 (TiCDC's replication_manager_test.go), redo excluded.</summary>
public class ReplicationManagerScenarioTests
{
    // ---- §10.2 #1 ----------------------------------------------------------------------------

    [Fact(DisplayName = "Manager add: task → ADD-S, running, accepted; duplicate ignored; Prepared → ADD-P; Replicating; reaped")]
    public void AddTableTask_HappyPath()
    {
        var manager = new ReplicationManager(10);
        int accepted = 0;
        var messages = manager.Tasks(new AddTableTask(T(1), "1", 1) { Accept = () => accepted++ });
        AssertAdd(Assert.Single(messages), "1", T(1), isSecondary: true, Ck(1, 1));
        Assert.True(manager.RunningTasks.ContainsKey(T(1)));
        Assert.Equal(1, accepted);

        Assert.Empty(manager.Tasks(new AddTableTask(T(1), "1", 1) { Accept = () => accepted++ }));
        Assert.Equal(1, accepted);

        messages = manager.Handle(AddResponse("1", ManagerTestKit.Status(T(1), TableState.Prepared)));
        AssertAdd(Assert.Single(messages), "1", T(1), isSecondary: false, Ck(1, 1));
        Assert.Equal(ReplicationSetState.Commit, manager.Set(T(1)).State);
        Assert.Equal(new CaptureId("1"), manager.Set(T(1)).Primary);

        Assert.Empty(manager.Handle(Heartbeat("1", ManagerTestKit.Status(T(1), TableState.Replicating, 1, 1))));
        Assert.Equal(ReplicationSetState.Replicating, manager.Set(T(1)).State);

        Assert.Empty(manager.Tasks());
        Assert.Equal(0, manager.RunningTasks.Count);
        Assert.Equal(1, manager.AcceptedTaskCounts["addTable"]);
    }

    // ---- §10.2 #2 ----------------------------------------------------------------------------

    [Fact(DisplayName = "Manager remove: unknown span ignored; Replicating → RM primary, accepted; duplicate ignored; Stopped → set deleted, task reaped")]
    public void RemoveTableTask_HappyPath()
    {
        var manager = Rebuilt(10, ("1", ManagerTestKit.Status(T(1), TableState.Replicating)));
        int accepted = 0;
        Assert.Empty(manager.Tasks(new RemoveTableTask(T(2), "1") { Accept = () => accepted++ }));
        Assert.Equal(0, accepted);
        Assert.Equal(0, manager.RunningTasks.Count);

        AssertRemove(Assert.Single(manager.Tasks(new RemoveTableTask(T(1), "1") { Accept = () => accepted++ })), "1", T(1));
        Assert.Equal(1, accepted);
        Assert.Equal(ReplicationSetState.Removing, manager.Set(T(1)).State);

        Assert.Empty(manager.Tasks(new RemoveTableTask(T(1), "1") { Accept = () => accepted++ }));
        Assert.Equal(1, accepted);

        Assert.Empty(manager.Handle(RemoveResponse("1", ManagerTestKit.Status(T(1), TableState.Stopping))));
        Assert.True(manager.Spans.ContainsKey(T(1)));

        Assert.Empty(manager.Handle(Heartbeat("1", ManagerTestKit.Status(T(1), TableState.Stopped))));
        Assert.False(manager.Spans.ContainsKey(T(1)));

        Assert.Empty(manager.Tasks());
        Assert.Equal(0, manager.RunningTasks.Count);
    }

    // ---- §10.2 #3 ----------------------------------------------------------------------------

    [Fact(DisplayName = "Manager move: unknown span ignored; ADD-S dest; duplicate ignored; dest Prepared → RM source; source Stopped → ADD-P dest; Replicating; reaped")]
    public void MoveTableTask_HappyPath()
    {
        var manager = Rebuilt(10, ("1", ManagerTestKit.Status(T(1), TableState.Replicating)));
        int accepted = 0;
        Assert.Empty(manager.Tasks(new MoveTableTask(T(2), "2") { Accept = () => accepted++ }));
        Assert.Equal(0, accepted);

        AssertAdd(Assert.Single(manager.Tasks(new MoveTableTask(T(1), "2") { Accept = () => accepted++ })), "2", T(1), isSecondary: true, Ck(0, 0));
        Assert.Equal(1, accepted);
        Assert.Empty(manager.Tasks(new MoveTableTask(T(1), "2") { Accept = () => accepted++ }));
        Assert.Equal(1, accepted);

        AssertRemove(Assert.Single(manager.Handle(AddResponse("2", ManagerTestKit.Status(T(1), TableState.Prepared)))), "1", T(1));
        AssertAdd(Assert.Single(manager.Handle(Heartbeat("1", ManagerTestKit.Status(T(1), TableState.Stopped, 2, 3)))), "2", T(1), isSecondary: false, Ck(2, 3));

        Assert.Empty(manager.Handle(AddResponse("2", ManagerTestKit.Status(T(1), TableState.Replicating, 2, 3))));
        Assert.Equal(ReplicationSetState.Replicating, manager.Set(T(1)).State);
        Assert.Equal(new CaptureId("2"), manager.Set(T(1)).Primary);

        Assert.Empty(manager.Tasks());
        Assert.Equal(0, manager.RunningTasks.Count);
        Assert.Equal(1, manager.AcceptedTaskCounts["moveTable"]);
    }

    // ---- §10.2 #4, #5 ------------------------------------------------------------------------

    [Fact(DisplayName = "Manager burst: not limited by concurrency; items skip spans with a running task; every item becomes a running task")]
    public void BurstBalance_SkipsRunningSpans()
    {
        var manager = Rebuilt(1, ("5", ManagerTestKit.Status(T(5), TableState.Replicating)));
        int burstAccepted = 0;
        var messages = manager.Tasks(
            new AddTableTask(T(1), "0", 1),
            new BurstBalanceTask(
                [new AddTableTask(T(1), "1", 1), new AddTableTask(T(2), "2", 1), new AddTableTask(T(3), "3", 1)], [], [])
            { Accept = () => burstAccepted++ });
        Assert.Equal(1, burstAccepted);
        Assert.Equal(3, messages.Count);
        AssertAdd(messages[0], "0", T(1), isSecondary: true, Ck(1, 1));
        AssertAdd(messages[1], "2", T(2), isSecondary: true, Ck(1, 1));
        AssertAdd(messages[2], "3", T(3), isSecondary: true, Ck(1, 1));
        foreach (long table in new long[] { 1, 2, 3 })
        {
            Assert.True(manager.Spans.ContainsKey(T(table)));
            Assert.True(manager.RunningTasks.ContainsKey(T(table)));
        }

        messages = manager.Tasks(new BurstBalanceTask(
            [new AddTableTask(T(4), "4", 2), new AddTableTask(T(1), "0", 2)],
            [new RemoveTableTask(T(5), "5"), new RemoveTableTask(T(1), "0")],
            [])
        { Accept = () => burstAccepted++ });
        Assert.Equal(2, burstAccepted);
        Assert.Equal(2, messages.Count);
        AssertAdd(messages[0], "4", T(4), isSecondary: true, Ck(2, 2));
        AssertRemove(messages[1], "5", T(5));
        Assert.Equal(2, manager.AcceptedTaskCounts["burstBalance"]);
        Assert.Equal(4, manager.AcceptedTaskCounts["addTable"]); // 1 ordinary + 3 burst items (t1 skipped twice)
    }

    [Fact(DisplayName = "Manager burst move: ADD-S to the destination with the set's checkpoint, running task recorded")]
    public void BurstBalance_Move()
    {
        var manager = Rebuilt(1,
            ("1", ManagerTestKit.Status(T(1), TableState.Replicating)),
            ("1", ManagerTestKit.Status(T(2), TableState.Replicating, 1, 1)));
        int accepted = 0;
        var messages = manager.Tasks(new BurstBalanceTask([], [], [new MoveTableTask(T(2), "2")]) { Accept = () => accepted++ });
        Assert.Equal(1, accepted);
        AssertAdd(Assert.Single(messages), "2", T(2), isSecondary: true, Ck(1, 1));
        Assert.True(manager.RunningTasks.ContainsKey(T(2)));
    }

    // ---- §10.2 #6 ----------------------------------------------------------------------------

    [Fact(DisplayName = "Manager concurrency 1: the first add is accepted, a second add for another span is rejected")]
    public void MaxTaskConcurrency_RejectsBeyondLimit()
    {
        var manager = new ReplicationManager(1);
        int accepted = 0;
        Assert.Single(manager.Tasks(new AddTableTask(T(1), "1", 0) { Accept = () => accepted++ }));
        Assert.Equal(1, accepted);
        Assert.Empty(manager.Tasks(new AddTableTask(T(2), "1", 0) { Accept = () => Assert.Fail("must not accept") }));
        Assert.False(manager.Spans.ContainsKey(T(2)));
    }

    // ---- §10.2 #7 ----------------------------------------------------------------------------

    private static Watermark Advance(ReplicationManager manager, ulong barrier, params long[] tables)
    {
        var ranges = new TableRanges();
        ranges.UpdateTables(tables.Select(t => new TableId(t)).ToList());
        return manager.AdvanceCheckpoint(ranges, barrier, barrier);
    }

    private static readonly (string, TableStatus)[] Tables1And2 =
    [
        ("1", ManagerTestKit.Status(T(1), TableState.Replicating, 10, 20, 15, puller: 30)),
        ("2", ManagerTestKit.Status(T(2), TableState.Replicating, 15, 30, 20, puller: 40)),
    ];

    private static readonly (string, TableStatus)[] Table3 =
    [
        ("1", ManagerTestKit.Status(T(3), TableState.Replicating, 5, 40, 30, puller: 50)),
        ("2", ManagerTestKit.Status(T(3), TableState.Preparing, 5, 40, 32, puller: 50)),
    ];

    private static readonly (string, TableStatus)[] Table4 = [("1", ManagerTestKit.Status(T(4), TableState.Prepared, 3, 10, 5, puller: 12))];

    private static (Span First, Span Second) SplitTable5()
    {
        byte[] start = TableSpans.TableStartKey(5);
        byte[] middle = [.. start, 0];
        return (new Span(5, start, middle), new Span(5, middle, TableSpans.TableEndKey(5)));
    }

    [Fact(DisplayName = "Watermark: no tables, barrier 5 → (5, 5, 0, MAX)")]
    public void AdvanceCheckpoint_NoTables_UsesBarrier()
    {
        var manager = Rebuilt(1, Tables1And2);
        Assert.Equal(new Watermark(5, 5, 0, Ts.Max), Advance(manager, 5));
        Assert.Null(manager.SlowestSink);
    }

    [Fact(DisplayName = "Watermark: tables 1 (10/20/15/p30) and 2 (15/30/20/p40), barrier 30 → (10, 20, 20, 30)")]
    public void AdvanceCheckpoint_TwoTables_TakesMinimaAndMaxLastSynced()
    {
        var manager = Rebuilt(1, Tables1And2);
        Assert.Equal(new Watermark(10, 20, 20, 30), Advance(manager, 30, 1, 2));
        Assert.Equal(T(1), manager.SlowestSink);
        Assert.Equal(T(1), manager.SlowestPuller);
    }

    [Fact(DisplayName = "Watermark: table 3 has no set → cannot proceed")]
    public void AdvanceCheckpoint_MissingTable_CannotProceed()
    {
        var manager = Rebuilt(1, Tables1And2);
        var watermark = Advance(manager, 30, 1, 2, 3);
        Assert.Equal(Watermark.CannotProceed, watermark);
        Assert.False(watermark.CanProceed);
        Assert.Equal(new TableId(3), manager.LastMissingTable);
    }

    [Fact(DisplayName = "Watermark: with table 3 rebuilt (5/40/32/p50) → (5, 20, 32, 30); with table 4 Prepared (3/10/5/p12) → (3, 10, 32, 12)")]
    public void AdvanceCheckpoint_EveryStateCounts()
    {
        var manager = Rebuilt(1, [.. Tables1And2, .. Table3]);
        Assert.Equal(new Watermark(5, 20, 32, 30), Advance(manager, 30, 1, 2, 3));
        Assert.Equal(T(3), manager.SlowestSink);

        manager = Rebuilt(1, [.. Tables1And2, .. Table3, .. Table4]);
        Assert.Equal(new Watermark(3, 10, 32, 12), Advance(manager, 30, 1, 2, 3, 4));
        Assert.Equal(T(4), manager.SlowestPuller);
    }

    [Fact(DisplayName = "Watermark: table 5 split into two contiguous spans → covered (3, 10, 32, 11); first or last span missing → cannot proceed")]
    public void AdvanceCheckpoint_SplitTable()
    {
        var (first, second) = SplitTable5();
        var firstReport = ("1", ManagerTestKit.Status(first, TableState.Prepared, 3, 10, 8, puller: 11));
        var secondReport = ("1", ManagerTestKit.Status(second, TableState.Prepared, 3, 10, 8, puller: 11));
        var manager = Rebuilt(1, [.. Tables1And2, .. Table3, .. Table4, firstReport, secondReport]);
        Assert.Equal(new Watermark(3, 10, 32, 11), Advance(manager, 30, 1, 2, 3, 4, 5));

        manager = Rebuilt(1, [.. Tables1And2, .. Table3, .. Table4, secondReport]);
        Assert.Equal(Watermark.CannotProceed, Advance(manager, 30, 1, 2, 3, 4, 5));

        manager = Rebuilt(1, [.. Tables1And2, .. Table3, .. Table4, firstReport]);
        Assert.Equal(Watermark.CannotProceed, Advance(manager, 30, 1, 2, 3, 4, 5));
    }

    [Fact(DisplayName = "Watermark: the checkpoint is capped by the minimum table barrier")]
    public void AdvanceCheckpoint_CappedByMinTableBarrier()
    {
        var manager = Rebuilt(1, Tables1And2);
        var ranges = new TableRanges();
        ranges.UpdateTables([1, 2]);
        Assert.Equal(new Watermark(7, 20, 20, 30), manager.AdvanceCheckpoint(ranges, 30, 7));
    }

    // ---- §10.2 #9, #10 -----------------------------------------------------------------------

    [Fact(DisplayName = "Manager rebuild: five tables in every kind of state → no messages; capture 1 dies → t1 Absent, the others unchanged")]
    public void HandleCaptureChanges_InitThenRemoval()
    {
        var manager = Rebuilt(1,
            ("1", ManagerTestKit.Status(T(1), TableState.Replicating)),
            ("2", ManagerTestKit.Status(T(2), TableState.Replicating)),
            ("3", ManagerTestKit.Status(T(3), TableState.Replicating)),
            ("3", ManagerTestKit.Status(T(2), TableState.Preparing)),
            ("4", ManagerTestKit.Status(T(4), TableState.Stopping)),
            ("5", ManagerTestKit.Status(T(5), TableState.Stopped)));
        Assert.Equal(5, manager.Spans.Count);
        var expected = new[]
        {
            ReplicationSetState.Replicating, ReplicationSetState.Prepare, ReplicationSetState.Replicating,
            ReplicationSetState.Removing, ReplicationSetState.Absent,
        };
        for (int table = 1; table <= 5; table++)
        {
            Assert.Equal(expected[table - 1], manager.Set(T(table)).State);
        }

        Assert.Empty(manager.CaptureRemoved("1"));
        Assert.Equal(5, manager.Spans.Count);
        expected[0] = ReplicationSetState.Absent;
        for (int table = 1; table <= 5; table++)
        {
            Assert.Equal(expected[table - 1], manager.Set(T(table)).State);
        }
    }

    [Fact(DisplayName = "Manager rebuild twice → error")]
    public void HandleCaptureChanges_InitAgain_Throws()
    {
        var manager = Rebuilt(1, ("1", ManagerTestKit.Status(T(1), TableState.Replicating)));
        Assert.Throws<InvalidOperationException>(() => manager.HandleCaptureChanges(Init(("1", ManagerTestKit.Status(T(1), TableState.Replicating))), null, Ts.Zero, []));
    }

    [Fact(DisplayName = "Manager: the capture dies during an add → set Absent, running task dropped, a new add is accepted again")]
    public void HandleCaptureChanges_DuringAdd_DropsRunningTask()
    {
        var manager = new ReplicationManager(1);
        manager.Tasks(new AddTableTask(T(1), "1", 0));
        Assert.True(manager.RunningTasks.ContainsKey(T(1)));

        Assert.Empty(manager.CaptureRemoved("1"));
        Assert.Equal(ReplicationSetState.Absent, manager.Set(T(1)).State);
        Assert.False(manager.RunningTasks.ContainsKey(T(1)));

        int accepted = 0;
        AssertAdd(Assert.Single(manager.Tasks(new AddTableTask(T(1), "2", 0) { Accept = () => accepted++ })), "2", T(1), isSecondary: true, Ck(0, 0));
        Assert.Equal(1, accepted);
    }

    [Fact(DisplayName = "Manager: statuses of unknown spans and unrelated message types are ignored")]
    public void HandleMessages_UnknownSpansAndTypes_Ignored()
    {
        var manager = Rebuilt(1, ("1", ManagerTestKit.Status(T(1), TableState.Replicating)));
        var messages = manager.Handle(
            Heartbeat("1", ManagerTestKit.Status(T(9), TableState.Replicating)),
            new Message { Type = MessageType.Heartbeat, From = "1", Heartbeat = Capstan.Core.Protocol.Heartbeat.Empty },
            new Message { Type = MessageType.DispatchTableResponse, From = "1", DispatchTableResponse = new DispatchTableResponse() });
        Assert.Empty(messages);
        Assert.Single(manager.Spans.Ordered().ToArray());
    }

    [Fact(DisplayName = "Manager: a second capture reporting Replicating → multiple-primary error from HandleMessages")]
    public void HandleMessages_SecondReplicating_Throws()
    {
        var manager = Rebuilt(1, ("1", ManagerTestKit.Status(T(1), TableState.Replicating)), ("2", ManagerTestKit.Status(T(1), TableState.Stopping)));
        Assert.Throws<ReplicationSetMultiplePrimaryException>(() => manager.Handle(Heartbeat("2", ManagerTestKit.Status(T(1), TableState.Replicating))));
    }
}
