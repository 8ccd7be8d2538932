namespace Capstan.Core.Tests.Replication;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;
using static ManagerTestKit;
using static ReplicationTestKit;

/// <summary>Manager behaviour where Capstan deliberately differs from TiCDC (spec §13).</summary>
public class ReplicationManagerGoBugTests
{
    // ---- §13 #4 ------------------------------------------------------------------------------

    [Fact(DisplayName = "GoBug4: a burst remove or move of a span with no set is skipped (TiCDC dereferenced a missing set)")]
    public void GoBug4_BurstItemsForUnknownSpans_AreSkipped()
    {
        var manager = Rebuilt(1, ("1", ManagerTestKit.Status(T(1), TableState.Replicating)));
        int accepted = 0;
        var messages = manager.Tasks(new BurstBalanceTask(
            [],
            [new RemoveTableTask(T(7), "1"), new RemoveTableTask(T(1), "1")],
            [new MoveTableTask(T(8), "2")])
        { Accept = () => accepted++ });
        Assert.Equal(1, accepted);
        AssertRemove(Assert.Single(messages), "1", T(1));
        Assert.False(manager.RunningTasks.ContainsKey(T(7)));
        Assert.False(manager.RunningTasks.ContainsKey(T(8)));
        Assert.False(manager.Spans.ContainsKey(T(7)));
        Assert.Equal(1, manager.AcceptedTaskCounts["removeTable"]);
        Assert.Equal(0, manager.AcceptedTaskCounts["moveTable"]);
    }

    // ---- §13 #5 ------------------------------------------------------------------------------

    [Fact(DisplayName = "GoBug5: burst items push running tasks past the limit → ordinary tasks stay blocked (TiCDC's '==' let them through)")]
    public void GoBug5_RunningAboveLimit_StillBlocksOrdinaryTasks()
    {
        var manager = new ReplicationManager(1);
        var messages = manager.Tasks(
            new BurstBalanceTask([new AddTableTask(T(1), "1", 0), new AddTableTask(T(2), "1", 0)], [], []),
            new AddTableTask(T(3), "1", 0) { Accept = () => Assert.Fail("must not accept") });
        Assert.Equal(2, messages.Count);
        Assert.Equal(2, manager.RunningTasks.Count);
        Assert.False(manager.Spans.ContainsKey(T(3)));

        Assert.Empty(manager.Tasks(new AddTableTask(T(3), "1", 0) { Accept = () => Assert.Fail("must not accept") }));
    }

    // ---- §13 #11 / #37 -----------------------------------------------------------------------

    [Fact(DisplayName = "GoBug11: an Absent set whose capture died (dropped table) is deleted by a remove task with no capture, without any message")]
    public void GoBug11_OrphanAbsentSet_DeletedByRemoveTask()
    {
        var manager = new ReplicationManager(10);
        manager.Tasks(new AddTableTask(T(1), "1", 0));
        manager.CaptureRemoved("1");
        Assert.Equal(ReplicationSetState.Absent, manager.Set(T(1)).State);
        Assert.Equal(0, manager.Set(T(1)).Captures.Count);

        int accepted = 0;
        Assert.Empty(manager.Tasks(new RemoveTableTask(T(1), CaptureId.None) { Accept = () => accepted++ }));
        Assert.Equal(1, accepted);
        Assert.False(manager.Spans.ContainsKey(T(1))); // TiCDC ignored the remove: the set stayed forever

        Assert.Empty(manager.Tasks());
        Assert.Equal(0, manager.RunningTasks.Count);
    }

    [Fact(DisplayName = "GoBug11_37: a Removing set whose last holder dies is deleted by the capture change itself")]
    public void GoBug11_37_RemovingSetWhoseHolderDies_IsDeleted()
    {
        var manager = Rebuilt(10, ("1", ManagerTestKit.Status(T(1), TableState.Replicating)));
        manager.Tasks(new RemoveTableTask(T(1), "1"));
        Assert.Equal(ReplicationSetState.Removing, manager.Set(T(1)).State);

        Assert.Empty(manager.CaptureRemoved("1"));
        Assert.False(manager.Spans.ContainsKey(T(1))); // TiCDC: left in Removing with no captures
        Assert.False(manager.RunningTasks.ContainsKey(T(1)));
    }

    [Fact(DisplayName = "GoBug37: rebuilt Removing {1: Stopping}; 1 dies → set deleted, so a later add really adds (TiCDC accepted it and did nothing)")]
    public void GoBug37_RebuiltRemovingHolderDies_LaterAddWorks()
    {
        var manager = Rebuilt(10, ("1", ManagerTestKit.Status(T(1), TableState.Stopping)));
        Assert.Equal(ReplicationSetState.Removing, manager.Set(T(1)).State);
        manager.CaptureRemoved("1");
        Assert.False(manager.Spans.ContainsKey(T(1)));

        AssertAdd(Assert.Single(manager.Tasks(new AddTableTask(T(1), "2", 9))), "2", T(1), isSecondary: true, Ck(9, 9));
    }

    [Fact(DisplayName = "GoBug11: a remove task for a set that still has holders goes through the set (Replicating → RM), not deletion")]
    public void GoBug11_RemoveTaskWithHolders_StopsThemFirst()
    {
        var manager = Rebuilt(10, ("1", ManagerTestKit.Status(T(1), TableState.Replicating)));
        AssertRemove(Assert.Single(manager.Tasks(new RemoveTableTask(T(1), CaptureId.None))), "1", T(1));
        Assert.True(manager.Spans.ContainsKey(T(1)));
    }

    // ---- §13 #39 watermark edge cases ----------------------------------------------------------

    private static Watermark Advance(ReplicationManager manager, ulong globalBarrier, ulong minTableBarrier, params long[] tables)
    {
        var ranges = new TableRanges();
        ranges.UpdateTables(tables.Select(t => new TableId(t)).ToList());
        return manager.AdvanceCheckpoint(ranges, globalBarrier, minTableBarrier);
    }

    private static byte[] Key(long table, byte suffix) => [.. TableSpans.TableStartKey(table), suffix];

    [Fact(DisplayName = "GoBug39: table id 0 is handled like any other: a whole span works, a hole is detected (TiCDC never saw holes in table 0)")]
    public void GoBug39_TableZero_HoleDetected()
    {
        var whole = Rebuilt(1, ("1", ManagerTestKit.Status(T(0), TableState.Replicating, 4, 6, 1)));
        Assert.Equal(new Watermark(4, 6, 1, 0), Advance(whole, 30, 30, 0));

        var start = TableSpans.TableStartKey(0);
        var end = TableSpans.TableEndKey(0);
        var holed = Rebuilt(1,
            ("1", ManagerTestKit.Status(new Span(0, start, Key(0, 1)), TableState.Replicating, 4, 6)),
            ("1", ManagerTestKit.Status(new Span(0, Key(0, 2), end), TableState.Replicating, 4, 6)));
        Assert.Equal(Watermark.CannotProceed, Advance(holed, 30, 30, 0));
    }

    [Fact(DisplayName = "GoBug39: overlapping spans count as a hole → cannot proceed")]
    public void GoBug39_OverlappingSpans_CannotProceed()
    {
        var start = TableSpans.TableStartKey(3);
        var end = TableSpans.TableEndKey(3);
        var overlapping = Rebuilt(1,
            ("1", ManagerTestKit.Status(new Span(3, start, Key(3, 2)), TableState.Replicating, 4, 6)),
            ("2", ManagerTestKit.Status(new Span(3, Key(3, 1), end), TableState.Replicating, 4, 6)));
        Assert.Equal(Watermark.CannotProceed, Advance(overlapping, 30, 30, 3));

        var sameStart = Rebuilt(1,
            ("1", ManagerTestKit.Status(new Span(3, start, Key(3, 2)), TableState.Replicating, 4, 6)),
            ("2", ManagerTestKit.Status(new Span(3, start, end), TableState.Replicating, 4, 6)));
        Assert.Equal(Watermark.CannotProceed, Advance(sameStart, 30, 30, 3));
    }

    [Fact(DisplayName = "GoBug39: no current tables → resolved = global barrier, checkpoint = min(min table barrier, global barrier), never above resolved")]
    public void GoBug39_NoTables_CheckpointNeverAboveResolved()
    {
        var manager = new ReplicationManager(1);
        Assert.Equal(new Watermark(5, 5, 0, Ts.Max), Advance(manager, 5, 7)); // TiCDC: checkpoint 7 > resolved 5
        Assert.Equal(new Watermark(3, 5, 0, Ts.Max), Advance(manager, 5, 3));
    }

    [Fact(DisplayName = "GoBug39: the only span of the only table carries checkpoint 2^64−1 → no panic, the value is taken as it is")]
    public void GoBug39_MaxCheckpoint_NoPanic()
    {
        var manager = Rebuilt(1, ("1", ManagerTestKit.Status(T(1), TableState.Replicating, ulong.MaxValue, ulong.MaxValue, 3, puller: ulong.MaxValue)));
        Assert.Equal(new Watermark(30, Ts.Max, 3, Ts.Max), Advance(manager, 30, 30, 1));
        Assert.Equal(new Watermark(Ts.Max, Ts.Max, 3, Ts.Max), Advance(manager, ulong.MaxValue, ulong.MaxValue, 1));
        Assert.Equal(T(1), manager.SlowestSink);
        Assert.Equal(T(1), manager.SlowestPuller);
    }

    // ---- §13 #2 --------------------------------------------------------------------------------

    [Fact(DisplayName = "GoBug2: capture removal handles every set and every removed capture (no error is swallowed: the loop has none to hide)")]
    public void GoBug2_ShutdownOfSeveralCaptures_AllProcessed()
    {
        // TiCDC checked the wrong error variable, so a failing shutdown was skipped silently and the
        // next capture processed. Capstan lets any error propagate; no consistent set can fail on a
        // shutdown, so this test pins the observable part: every set sees every removed capture.
        var manager = Rebuilt(10,
            ("1", ManagerTestKit.Status(T(1), TableState.Replicating)),
            ("2", ManagerTestKit.Status(T(1), TableState.Prepared)),
            ("2", ManagerTestKit.Status(T(2), TableState.Replicating)),
            ("3", ManagerTestKit.Status(T(3), TableState.Replicating)));
        Assert.Equal(ReplicationSetState.Commit, manager.Set(T(1)).State);
        // Removed captures are handled in id order: 1's death promotes 2 (ADD-P), then 2 dies too.
        var messages = manager.CaptureRemoved("2", "1");
        AssertAdd(Assert.Single(messages), "2", T(1), isSecondary: false, Ck(0, 0));
        Assert.Equal(ReplicationSetState.Absent, manager.Set(T(1)).State);
        Assert.Equal(ReplicationSetState.Absent, manager.Set(T(2)).State);
        Assert.Equal(ReplicationSetState.Replicating, manager.Set(T(3)).State);
    }
}
