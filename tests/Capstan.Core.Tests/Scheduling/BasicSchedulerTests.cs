namespace Capstan.Core.Tests.Scheduling;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;
using static Capstan.Core.Tests.Member.MemberFixtures;

public class BasicSchedulerTests
{
    private static readonly long[] Tables1To4 = [1, 2, 3, 4];

    private static List<ScheduleTask> Run(BasicScheduler scheduler, SchedulingContext context)
    {
        var tasks = new List<ScheduleTask>();
        scheduler.Schedule(context, tasks);
        return tasks;
    }

    // §10.6 #1 (TestSchedulerBasic)
    [Fact(DisplayName = "Basic: initial dispatch adds one batch round-robin over non-Stopping captures; none when all are Stopping")]
    public void InitialDispatch_SkipsStoppingCaptures()
    {
        var scheduler = new BasicScheduler(new SchedulerConfig { AddTableBatchSize = 2 });
        var empty = new SpanMap<ReplicationSet>();

        var tasks = Run(scheduler, Context(Captures("owner", ("a", CaptureState.Stopping), ("b", CaptureState.Initialized)), empty, Tables1To4));
        var burst = Assert.IsType<BurstBalanceTask>(Assert.Single(tasks));
        Assert.Equal([("b", 1L), ("b", 2L)], burst.AddTables.Select(a => (a.Capture.Value, a.Span.TableId.Value)));
        Assert.Empty(burst.RemoveTables);
        Assert.Equal(BasicScheduler.SchedulerName, burst.Scheduler);

        tasks = Run(scheduler, Context(Captures("owner", ("a", CaptureState.Stopping), ("b", CaptureState.Stopping)), empty, Tables1To4));
        Assert.Empty(tasks);

        tasks = Run(scheduler, Context(Initialized("a", "b"), empty, Tables1To4));
        burst = Assert.IsType<BurstBalanceTask>(Assert.Single(tasks));
        Assert.Equal([("a", 1L), ("b", 2L)], burst.AddTables.Select(a => (a.Capture.Value, a.Span.TableId.Value)));
    }

    [Fact(DisplayName = "Basic: round-robin goes over captures in id order, Uninitialized ones included (as TiCDC)")]
    public void RoundRobin_InCaptureIdOrder()
    {
        var scheduler = new BasicScheduler(new SchedulerConfig());
        var captures = Captures("owner", ("c", CaptureState.Initialized), ("a", CaptureState.Uninitialized), ("b", CaptureState.Stopping));

        var tasks = Run(scheduler, Context(captures, new SpanMap<ReplicationSet>(), [1, 2, 3, 4, 5], checkpointTs: 9));

        var burst = Assert.IsType<BurstBalanceTask>(Assert.Single(tasks));
        Assert.Equal(["a", "c", "a", "c", "a"], burst.AddTables.Select(a => a.Capture.Value));
        Assert.All(burst.AddTables, a => Assert.Equal(new Ts(9), a.CheckpointTs));
    }

    [Fact(DisplayName = "Basic: a lost capture's Absent set is re-added from the changefeed checkpoint; other states are left alone")]
    public void AbsentSet_IsReAdded()
    {
        var scheduler = new BasicScheduler(new SchedulerConfig { AddTableBatchSize = 2 });
        var sets = Sets(
            Set(1, ReplicationSetState.Replicating, "a"),
            Set(2, ReplicationSetState.Commit, "b"),
            Rebuilt(3, 0, ("a", TableState.Replicating), ("b", TableState.Preparing)),
            Set(4, ReplicationSetState.Absent));

        var tasks = Run(scheduler, Context(Initialized("a", "b"), sets, Tables1To4, checkpointTs: 1));

        var burst = Assert.IsType<BurstBalanceTask>(Assert.Single(tasks));
        var add = Assert.Single(burst.AddTables);
        Assert.Equal(S(4), add.Span);
        Assert.Equal(new Ts(1), add.CheckpointTs);
    }

    [Fact(DisplayName = "Basic: CREATE and DROP TABLE in one tick → an add burst for the new table, then a remove burst for the dropped one")]
    public void CreateAndDrop_AddThenRemove()
    {
        var scheduler = new BasicScheduler(new SchedulerConfig { AddTableBatchSize = 2 });
        var sets = Sets(
            Set(1, ReplicationSetState.Replicating, "a"),
            Set(2, ReplicationSetState.Commit, "b"),
            Rebuilt(3, 0, ("a", TableState.Replicating), ("b", TableState.Preparing)),
            Rebuilt(5, 0, ("a", TableState.Stopping), ("b", TableState.Prepared)));

        var tasks = Run(scheduler, Context(Initialized("a", "b"), sets, Tables1To4, checkpointTs: 2));

        Assert.Equal(2, tasks.Count);
        var add = Assert.Single(Assert.IsType<BurstBalanceTask>(tasks[0]).AddTables);
        Assert.Equal((S(4), new Ts(2)), (add.Span, add.CheckpointTs));
        var remove = Assert.Single(Assert.IsType<BurstBalanceTask>(tasks[1]).RemoveTables);
        Assert.Equal(S(5), remove.Span);
        Assert.False(remove.Capture.IsNone);
    }

    [Fact(DisplayName = "Basic: a dropped table whose set only has an Undetermined holder is removed through that holder")]
    public void DroppedTable_UndeterminedHolder_Removed()
    {
        var scheduler = new BasicScheduler(new SchedulerConfig { AddTableBatchSize = 2 });
        var sets = Sets(
            Set(1, ReplicationSetState.Replicating, "a"),
            Set(2, ReplicationSetState.Commit, "b"),
            Set(3, ReplicationSetState.Prepare, "b"),
            Set(4, ReplicationSetState.Prepare, "b"),
            Set(5, ReplicationSetState.Removing, "b"));
        Assert.Equal(CaptureRole.Undetermined, sets.Ordered()[4].Value.RoleOf("b"));

        var tasks = Run(scheduler, Context(Initialized("a", "b"), sets, Tables1To4, checkpointTs: 3));

        var remove = Assert.Single(Assert.IsType<BurstBalanceTask>(Assert.Single(tasks)).RemoveTables);
        Assert.Equal((S(5), new CaptureId("b")), (remove.Span, remove.Capture));
    }

    [Fact(DisplayName = "Basic (§13 #11): an orphan set of a dropped table that no capture holds is removed with capture None — Go skipped it forever")]
    public void OrphanSetWithoutCaptures_IsRemoved_NotSkippedAsInGo()
    {
        var scheduler = new BasicScheduler(new SchedulerConfig());
        var sets = Sets(Set(1, ReplicationSetState.Replicating, "a"), Set(2, ReplicationSetState.Absent));

        var tasks = Run(scheduler, Context(Initialized("a"), sets, [1]));

        var remove = Assert.Single(Assert.IsType<BurstBalanceTask>(Assert.Single(tasks)).RemoveTables);
        Assert.Equal(S(2), remove.Span);
        Assert.Equal(CaptureId.None, remove.Capture);
    }

    [Fact(DisplayName = "Basic: when only part of the current spans fit the batch, unseen dropped sets are still found by the count check")]
    public void BatchLimit_DroppedSetStillRemoved()
    {
        var scheduler = new BasicScheduler(new SchedulerConfig { AddTableBatchSize = 1 });
        var sets = Sets(Set(9, ReplicationSetState.Replicating, "a"));

        var tasks = Run(scheduler, Context(Initialized("a"), sets, [1, 2, 3]));

        Assert.Equal(2, tasks.Count);
        Assert.Equal([S(1)], ((BurstBalanceTask)tasks[0]).AddTables.Select(a => a.Span));
        Assert.Equal([S(9)], ((BurstBalanceTask)tasks[1]).RemoveTables.Select(r => r.Span));
    }

    [Fact(DisplayName = "Basic: a CREATE TABLE with every existing set current produces only the add")]
    public void CreateTableOnly_NoRemoval()
    {
        var scheduler = new BasicScheduler(new SchedulerConfig());
        var sets = Replicating((1, "a"), (2, "a"));

        var tasks = Run(scheduler, Context(Initialized("a"), sets, [1, 2, 3]));

        var burst = Assert.IsType<BurstBalanceTask>(Assert.Single(tasks));
        Assert.Equal([S(3)], burst.AddTables.Select(a => a.Span));
        Assert.Empty(burst.RemoveTables);
    }

    [Fact(DisplayName = "Basic: 131,072 Replicating spans in steady state → no tasks and no allocation")]
    public void SteadyState_131072Spans_AllocatesNothing()
    {
        const int tables = 131_072;
        var ids = Enumerable.Range(0, 8).Select(i => $"capture-{i}").ToArray();
        var sets = Replicating(Enumerable.Range(1, tables).Select(t => ((long)t, ids[t % ids.Length])).ToArray());
        var context = Context(Initialized(ids), sets, Enumerable.Range(1, tables).Select(t => (long)t));
        var scheduler = new BasicScheduler(new SchedulerConfig());
        var tasks = new List<ScheduleTask>();
        scheduler.Schedule(context, tasks); // warm-up

        long before = GC.GetAllocatedBytesForCurrentThread();
        scheduler.Schedule(context, tasks);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Empty(tasks);
        Assert.Equal(0, allocated);
    }
}

public class BasicSchedulerLeastLoadedTests
{
    [Fact(DisplayName = "Basic: 100 tables added in batches of 50 on 3 captures end within one table of each other (TiCDC's round-robin restarts each batch at the same capture: 34/34/32)")]
    public void BatchedInitialDispatch_StaysWithinOne()
    {
        var scheduler = new BasicScheduler(new SchedulerConfig { AddTableBatchSize = 50 });
        var sets = new SpanMap<ReplicationSet>();
        var tables = Enumerable.Range(1, 100).Select(t => (long)t).ToArray();
        for (int round = 0; round < 2; round++)
        {
            var tasks = new List<ScheduleTask>();
            scheduler.Schedule(Context(Initialized("a", "b", "c"), sets, tables), tasks);
            var burst = Assert.IsType<BurstBalanceTask>(Assert.Single(tasks));
            foreach (var add in burst.AddTables)
            {
                // The add as the agent will report it once prepared: the capture holds the span.
                sets.Set(add.Span, new ReplicationSet(add.Span, new Ts(1), [new(add.Capture, new TableStatus(add.Span, TableState.Preparing, Checkpoint.At(new Ts(1))))]));
            }
        }

        var counts = new Dictionary<string, int>();
        foreach (var entry in sets.Ordered())
        {
            string holder = entry.Value.Secondary.Value;
            counts[holder] = counts.GetValueOrDefault(holder) + 1;
        }

        Assert.Equal(100, counts.Values.Sum());
        Assert.True(counts.Values.Max() - counts.Values.Min() <= 1, string.Join(", ", counts.Select(p => $"{p.Key}={p.Value}")));
    }
}
