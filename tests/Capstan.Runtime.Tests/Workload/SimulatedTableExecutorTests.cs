namespace Capstan.Runtime.Tests.Workload;

using Capstan.Core.Agent;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using Capstan.Runtime.Workload;

/// <summary>The table-executor contract of spec §5.9, on the simulated processor.</summary>
public class SimulatedTableExecutorTests
{
    private static readonly ChangefeedId Feed = "feed";
    private static readonly Span Table1 = TableSpans.WholeTable(1);
    private static readonly SinkWriter Writer = new("a", new ProcessorEpoch("e1"));

    private readonly ManualTimeSource _time = new(10_000);
    private readonly ReplicationLedger _ledger = new();
    private readonly SimulatedTableExecutor _executor;

    public SimulatedTableExecutorTests()
    {
        _executor = new SimulatedTableExecutor(
            Writer, Feed, new UpstreamClock(_time), _ledger, new TableWorkload(seed: 1, 1000, 1000),
            new SimulatedExecutorOptions { PrepareMilliseconds = 200, StopMilliseconds = 100 });
    }

    private static Ts T(long ms) => Ts.FromPhysical(ms);

    private TableState StateOf(Span span) => _executor.GetTableSpanStatus(span, collectStats: false).State;

    private void Elapse(long ms)
    {
        _time.Advance(ms);
        _executor.Advance();
    }

    [Fact]
    public void GetTableSpanStatus_UnknownSpan_IsAbsentWithoutCheckpoint()
    {
        var status = _executor.GetTableSpanStatus(Table1, collectStats: true);

        Assert.Equal(new TableStatus(Table1, TableState.Absent, default), status);
    }

    [Fact]
    public void AddTableSpan_Prepare_GoesPreparingThenPreparedAfterTheScan()
    {
        Assert.True(_executor.AddTableSpan(Table1, Checkpoint.At(T(9_000)), isPrepare: true));
        Assert.Equal(TableState.Preparing, StateOf(Table1));
        Assert.False(_executor.IsAddTableSpanFinished(Table1, isPrepare: true));

        Elapse(199);
        Assert.Equal(TableState.Preparing, StateOf(Table1));
        Elapse(1);

        Assert.Equal(TableState.Prepared, StateOf(Table1));
        Assert.True(_executor.IsAddTableSpanFinished(Table1, isPrepare: true));
        Assert.False(_executor.IsAddTableSpanFinished(Table1, isPrepare: false));
        var status = _executor.GetTableSpanStatus(Table1, collectStats: false);
        Assert.Equal(T(9_000), status.Checkpoint.CheckpointTs); // nothing sunk while prepared
        Assert.Equal(T(10_200), status.Checkpoint.ResolvedTs); // but the puller caught up
        Assert.Equal(0, _ledger.RangeCount);
    }

    [Fact]
    public void AddTableSpan_RepeatedWhilePreparing_IsANoOp()
    {
        _executor.AddTableSpan(Table1, Checkpoint.At(T(9_000)), isPrepare: true);
        Elapse(100);

        Assert.True(_executor.AddTableSpan(Table1, Checkpoint.At(T(9_500)), isPrepare: true));
        Assert.True(_executor.AddTableSpan(Table1, Checkpoint.At(T(9_500)), isPrepare: false));
        Elapse(100);

        Assert.Equal(TableState.Prepared, StateOf(Table1));
        Assert.Equal(T(9_000), _executor.Spans()[0].PullerStartTs);
    }

    [Fact]
    public void AddTableSpan_CommitOnPrepared_StartsTheSinkAtTheCommitCheckpointAndReplicates()
    {
        _executor.AddTableSpan(Table1, Checkpoint.At(T(9_000)), isPrepare: true);
        Elapse(200);

        Assert.True(_executor.AddTableSpan(Table1, Checkpoint.At(T(9_600)), isPrepare: false));

        Assert.Equal(TableState.Replicating, StateOf(Table1));
        Assert.True(_executor.IsAddTableSpanFinished(Table1, isPrepare: false));
        Elapse(50);
        var status = _executor.GetTableSpanStatus(Table1, collectStats: false);
        Assert.Equal(T(10_250), status.Checkpoint.CheckpointTs);
        var (ranges, _) = _ledger.Get(Feed, Table1);
        var range = Assert.Single(ranges);
        Assert.Equal((T(9_600), T(10_250), 650L), (range.From, range.To, range.Events));
    }

    [Fact]
    public void AddTableSpan_PrepareOnPrepared_DoesNotStartTheSink()
    {
        _executor.AddTableSpan(Table1, Checkpoint.At(T(9_000)), isPrepare: true);
        Elapse(200);

        Assert.True(_executor.AddTableSpan(Table1, Checkpoint.At(T(9_000)), isPrepare: true));
        Elapse(50);

        Assert.Equal(TableState.Prepared, StateOf(Table1));
        Assert.Equal(0, _ledger.RangeCount);
    }

    [Fact]
    public void AddTableSpan_CommitOnAbsent_GoesThroughPreparingAndPreparedFirst()
    {
        Assert.True(_executor.AddTableSpan(Table1, Checkpoint.At(T(9_000)), isPrepare: false));
        Assert.Equal(TableState.Preparing, StateOf(Table1));
        Assert.False(_executor.IsAddTableSpanFinished(Table1, isPrepare: false));
        Elapse(200);
        Assert.Equal(TableState.Prepared, StateOf(Table1));

        _executor.AddTableSpan(Table1, Checkpoint.At(T(9_000)), isPrepare: false);

        Assert.Equal(TableState.Replicating, StateOf(Table1));
    }

    [Fact]
    public void AddTableSpan_RepeatedWhileReplicating_KeepsTheCheckpoint()
    {
        ReachReplicating(Table1, T(9_000));
        Elapse(100);
        var before = _executor.GetTableSpanStatus(Table1, false).Checkpoint;

        Assert.True(_executor.AddTableSpan(Table1, Checkpoint.At(T(9_000)), isPrepare: false));
        Assert.True(_executor.AddTableSpan(Table1, Checkpoint.At(T(9_000)), isPrepare: true));

        Assert.Equal(before, _executor.GetTableSpanStatus(Table1, false).Checkpoint);
        Assert.Equal(TableState.Replicating, StateOf(Table1));
    }

    [Fact]
    public void AddTableSpan_ZeroCheckpoint_IsRefusedWithAnExecutorError()
    {
        Assert.Throws<TableExecutorException>(() => _executor.AddTableSpan(Table1, default, isPrepare: true));
        Assert.Equal(TableState.Absent, StateOf(Table1));
    }

    [Fact]
    public void AddTableSpan_CommitBelowThePullerStart_IsAContractViolation()
    {
        _executor.AddTableSpan(Table1, Checkpoint.At(T(9_000)), isPrepare: true);
        Elapse(200);

        Assert.Throws<TableExecutorException>(() => _executor.AddTableSpan(Table1, Checkpoint.At(T(8_000)), isPrepare: false));
        Assert.Equal(1, _executor.ContractViolations);
        Assert.Equal(TableState.Prepared, StateOf(Table1));
    }

    [Fact]
    public void IsAddTableSpanFinished_UnknownSpan_Throws()
    {
        Assert.Throws<TableExecutorException>(() => _executor.IsAddTableSpanFinished(Table1, isPrepare: true));
    }

    [Fact]
    public void RemoveTableSpan_Replicating_StopsAsynchronouslyAndHandsOverTheFinalCheckpoint()
    {
        ReachReplicating(Table1, T(9_000));
        Elapse(100);
        var sunk = _executor.GetTableSpanStatus(Table1, false).Checkpoint.CheckpointTs;

        Assert.False(_executor.RemoveTableSpan(Table1));
        Assert.Equal(TableState.Stopping, StateOf(Table1));
        Assert.False(_executor.IsRemoveTableSpanFinished(Table1, out var notYet));
        Assert.Equal(Ts.Zero, notYet);
        Elapse(99);
        Assert.Equal(TableState.Stopping, StateOf(Table1));
        Elapse(1);
        Assert.Equal(TableState.Stopped, StateOf(Table1));
        Assert.True(_executor.RemoveTableSpan(Table1));

        Assert.True(_executor.IsRemoveTableSpanFinished(Table1, out var final));

        Assert.Equal(sunk, final); // the sink froze when the stop began
        Assert.Equal(TableState.Absent, StateOf(Table1));
        Assert.Equal(0, _executor.SpanCount);
        Assert.True(_executor.IsRemoveTableSpanFinished(Table1, out var gone));
        Assert.Equal(Ts.Zero, gone);
    }

    [Fact]
    public void RemoveTableSpan_Absent_IsDoneAtOnce()
    {
        Assert.True(_executor.RemoveTableSpan(Table1));
        Assert.Equal(TableState.Absent, StateOf(Table1));
    }

    [Fact]
    public void RemoveTableSpan_Preparing_StopsWithThePrepareCheckpoint()
    {
        _executor.AddTableSpan(Table1, Checkpoint.At(T(9_000)), isPrepare: true);

        Assert.False(_executor.RemoveTableSpan(Table1));
        Elapse(100);

        Assert.True(_executor.IsRemoveTableSpanFinished(Table1, out var final));
        Assert.Equal(T(9_000), final);
        Assert.Equal(0, _ledger.RangeCount);
    }

    [Fact]
    public void AddTableSpan_OnStopped_CreatesTheSpanAnew()
    {
        ReachReplicating(Table1, T(9_000));
        _executor.RemoveTableSpan(Table1);
        Elapse(100);

        Assert.True(_executor.AddTableSpan(Table1, Checkpoint.At(T(9_500)), isPrepare: true));

        Assert.Equal(TableState.Preparing, StateOf(Table1));
        Assert.Equal(T(9_500), _executor.Spans()[0].PullerStartTs);
    }

    [Fact]
    public void Advance_SinkNeverPassesTheGlobalBarrier()
    {
        ReachReplicating(Table1, T(9_000));
        _executor.ApplyBarrier(new Barrier { GlobalBarrierTs = T(10_100) });

        Elapse(500);

        Assert.Equal(T(10_100), _executor.GetTableSpanStatus(Table1, false).Checkpoint.CheckpointTs);
        Assert.Equal(T(10_700), _executor.GetTableSpanStatus(Table1, false).Checkpoint.ResolvedTs);
        _executor.ApplyBarrier(new Barrier { GlobalBarrierTs = Ts.Zero }); // ignored
        _executor.ApplyBarrier(null);
        Assert.Equal(T(10_100), _executor.GlobalBarrierTs);
    }

    [Fact]
    public void GetTableSpanStatus_WithCollectStats_FillsStagesAndRate()
    {
        ReachReplicating(Table1, T(9_000));

        var status = _executor.GetTableSpanStatus(Table1, collectStats: true);

        Assert.NotNull(status.Stats);
        Assert.Equal(1000UL, status.Stats!.WriteKeysPerSecond);
        Assert.Contains(StageNames.PullerEgress, status.Stats.StageCheckpoints.Keys);
        Assert.Null(_executor.GetTableSpanStatus(Table1, collectStats: false).Stats);
    }

    [Fact]
    public void StopAll_AbandonsEverySinkingSpanAndRefusesEverything()
    {
        var table2 = TableSpans.WholeTable(2);
        ReachReplicating(Table1, T(9_000));
        _executor.AddTableSpan(table2, Checkpoint.At(T(9_000)), isPrepare: true);
        Elapse(50);

        _executor.StopAll();

        Assert.True(_executor.IsStopped);
        Assert.Equal(0, _executor.SpanCount);
        Assert.Contains(Writer, _ledger.Get(Feed, Table1).Abandoned);
        Assert.Empty(_ledger.Get(Feed, table2).Abandoned); // it never sank
        Assert.False(_executor.AddTableSpan(Table1, Checkpoint.At(T(9_000)), isPrepare: true));
        Assert.False(_executor.RemoveTableSpan(Table1));
    }

    [Fact]
    public void Advance_ManyTicks_LedgerCoversEverythingFromTheStartWithoutGaps()
    {
        ReachReplicating(Table1, T(9_000));
        for (int i = 0; i < 40; i++)
        {
            Elapse(50);
        }

        var checkpoint = _executor.GetTableSpanStatus(Table1, false).Checkpoint.CheckpointTs;
        var report = GapChecker.Check(_ledger, Feed, [Table1], T(9_000), checkpoint, new TableWorkload(1, 1000, 1000));

        Assert.True(report.Passed, report.Describe());
        Assert.Equal(report.EventsExpected, report.EventsApplied);
        Assert.Equal(1, _ledger.RangeCount);
    }

    [Fact(DisplayName = "Executor: the per-state counts follow every transition, a re-add after Stopped and StopAll")]
    public void CountByState_FollowsEveryTransition()
    {
        var table2 = TableSpans.WholeTable(2);
        var table3 = TableSpans.WholeTable(3);
        ReachReplicating(Table1, T(9_000));
        _executor.AddTableSpan(table2, Checkpoint.At(T(9_000)), isPrepare: true);
        _executor.AddTableSpan(table3, Checkpoint.At(T(9_000)), isPrepare: true);
        AssertCounts((TableState.Preparing, 2), (TableState.Replicating, 1));

        Elapse(200);
        _executor.RemoveTableSpan(Table1);
        AssertCounts((TableState.Prepared, 2), (TableState.Stopping, 1));

        Elapse(100);
        _executor.RemoveTableSpan(table2);
        AssertCounts((TableState.Prepared, 1), (TableState.Stopping, 1), (TableState.Stopped, 1));

        _executor.IsRemoveTableSpanFinished(Table1, out _);
        Elapse(100);
        _executor.AddTableSpan(table2, Checkpoint.At(T(10_000)), isPrepare: true); // a Stopped span is added afresh
        AssertCounts((TableState.Preparing, 1), (TableState.Prepared, 1));
        Assert.Equal(2, _executor.SpanCount);

        _executor.StopAll();
        AssertCounts();
    }

    [Fact(DisplayName = "Executor: statuses are right whatever order spans are asked in, across adds and removes in the middle")]
    public void GetTableSpanStatus_AnyOrderAcrossAddsAndRemoves_AnswersForTheAskedSpan()
    {
        var spans = new List<Span>();
        for (long table = 10; table >= 1; table--)
        {
            spans.Add(TableSpans.WholeTable(table)); // added out of order
        }

        foreach (var span in spans)
        {
            _executor.AddTableSpan(span, Checkpoint.At(T(9_000 + span.TableId.Value)), isPrepare: true);
        }

        _executor.RemoveTableSpan(TableSpans.WholeTable(5));
        _executor.AddTableSpan(new Span(new TableId(5), [1], [2]), Checkpoint.At(T(9_005)), isPrepare: true);
        var inOrder = new List<Span>(spans);
        inOrder.Sort();
        var asked = new List<Span>(inOrder);
        asked.AddRange(inOrder); // a second sweep
        asked.Reverse();
        asked.AddRange([TableSpans.WholeTable(3), TableSpans.WholeTable(11), TableSpans.WholeTable(4), new Span(new TableId(5), [1], [2])]);

        foreach (var span in asked)
        {
            var status = _executor.GetTableSpanStatus(span, collectStats: false);
            Assert.Equal(span, status.Span);
            TableState expected = span.TableId.Value switch
            {
                11 => TableState.Absent,
                5 => span == TableSpans.WholeTable(5) ? TableState.Stopping : TableState.Preparing,
                _ => TableState.Preparing,
            };
            Assert.Equal(expected, status.State);
            if (expected != TableState.Absent)
            {
                Assert.Equal(T(9_000 + span.TableId.Value), status.Checkpoint.CheckpointTs);
            }
        }
    }

    private void AssertCounts(params (TableState State, int Count)[] expected)
    {
        var counts = new int[(int)TableState.Stopped + 1];
        foreach (var (state, count) in expected)
        {
            counts[(int)state] = count;
        }

        var byViews = new int[counts.Length];
        foreach (var view in _executor.Spans())
        {
            byViews[(int)view.State]++;
        }

        Assert.Equal(counts, _executor.CountByState());
        Assert.Equal(byViews, _executor.CountByState());
    }

    private void ReachReplicating(Span span, Ts start)
    {
        _executor.AddTableSpan(span, Checkpoint.At(start), isPrepare: true);
        Elapse(200);
        _executor.AddTableSpan(span, Checkpoint.At(start), isPrepare: false);
    }
}
