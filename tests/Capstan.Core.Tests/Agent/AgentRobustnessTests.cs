namespace Capstan.Core.Tests.Agent;

using Capstan.Core.Agent;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using static AgentHarness;

/// <summary>
/// Where Capstan's agent deliberately differs from TiCDC's: bad input and executor failures are
/// dropped and counted, never crash the node or get lost. Each test would fail on the Go behaviour.
/// </summary>
public class AgentRobustnessTests
{
    private static readonly Span Span1 = SpanOf(1);

    [Fact(DisplayName = "Owner conflict: the known revision from another capture → dropped and counted, no crash (Go panics)")]
    public void OwnerConflict_SameRevisionOtherCapture_DroppedAndCounted()
    {
        var harness = new AgentHarness();

        Assert.Empty(harness.Tick(FromOwner(Heartbeat(), 1, "owner-2")));

        Assert.Equal(KnownOwner, harness.Agent.Owner);
        Assert.Equal(new AgentCounters { ConflictingOwnerMessagesDropped = 1 }, harness.Agent.Counters);
        Assert.Single(harness.Tick(Heartbeat()));
    }

    [Fact(DisplayName = "Executor error: AddTableSpan refuses checkpoint 0 → counted, Absent reported, span dropped, node keeps running (Go loses the error, §13 #3)")]
    public void ExecutorError_RefusedAdd_CountedAndReported()
    {
        var harness = new AgentHarness();
        harness.Executor.RefuseZeroCheckpoint = true;
        harness.Executor.AddResult = true;
        harness.Executor.AddFinishedResult = true;

        TableStatus status = AddStatus(Assert.Single(harness.Tick(Prepare(Span1, default))));

        Assert.Equal(TableState.Absent, status.State);
        Assert.Equal(0, harness.Agent.TrackedSpanCount);
        Assert.Equal(new AgentCounters { ExecutorErrors = 1 }, harness.Agent.Counters);
        Assert.IsType<TableExecutorException>(harness.Agent.LastExecutorError);

        Assert.Equal(TableState.Prepared, AddStatus(Assert.Single(harness.Tick(Prepare(Span1, Checkpoint.At(10))))).State);
    }

    public static TheoryData<string> ExecutorMethods() =>
    [
        nameof(ITableExecutor.AddTableSpan), nameof(ITableExecutor.IsAddTableSpanFinished), nameof(ITableExecutor.RemoveTableSpan),
        nameof(ITableExecutor.IsRemoveTableSpanFinished), nameof(ITableExecutor.GetTableSpanStatus),
    ];

    [Theory(DisplayName = "Executor error: an exception from any executor method never escapes Tick; it is counted, the call counts as not done, and resends finish the job")]
    [MemberData(nameof(ExecutorMethods))]
    public void ExecutorError_AnyMethodThrowsOnce_CountedAndRecovered(string method)
    {
        var harness = new AgentHarness();
        MockTableExecutor executor = harness.Executor;
        (executor.AddResult, executor.AddFinishedResult, executor.RemoveResult, executor.RemoveFinishedResult) = (true, true, true, true);
        var failure = new InvalidOperationException("disk on fire");
        bool thrown = false;
        executor.Fault = (name, _) =>
        {
            if (name != method || thrown)
            {
                return null;
            }

            thrown = true;
            return failure;
        };

        ResendUntil(harness, Prepare(Span1), TableState.Prepared, isRemove: false);
        ResendUntil(harness, Commit(Span1), TableState.Replicating, isRemove: false);
        ResendUntil(harness, RemoveTable(Span1), TableState.Stopped, isRemove: true);

        Assert.True(thrown);
        Assert.Equal(1, harness.Agent.Counters.ExecutorErrors);
        Assert.Same(failure, harness.Agent.LastExecutorError);
        Assert.Equal(0, harness.Agent.TrackedSpanCount);
        Assert.Equal(0, executor.Count);
    }

    [Fact(DisplayName = "Executor error: GetTableSpanStatus failing in a heartbeat → that span is reported Unknown (the coordinator ignores it), counted, others unaffected")]
    public void ExecutorError_StatusFailsInHeartbeat_ReportedUnknown()
    {
        var harness = new AgentHarness();
        harness.Executor.SetState(SpanOf(1), TableState.Replicating);
        harness.Executor.SetState(SpanOf(2), TableState.Replicating);
        harness.Executor.AddResult = true;
        harness.Tick(Commit(SpanOf(1)), Commit(SpanOf(2)));
        harness.Executor.Fault = (name, span) => span == SpanOf(1) ? new InvalidOperationException("status unavailable") : null;

        List<Message> outbox = harness.Tick(Heartbeat());

        Assert.Equal([TableState.Unknown, TableState.Replicating], HeartbeatResponseOf(Assert.Single(outbox)).Tables.Select(s => s.State));
        Assert.Equal(2, harness.Agent.Counters.ExecutorErrors); // the heartbeat's query and the poll's refresh
        Assert.Equal(2, harness.Agent.TrackedSpanCount);
    }

    [Fact(DisplayName = "Executor contract: a state outside Absent..Stopped is counted and treated as Unknown; the span is neither dropped nor advanced (Go panics)")]
    public void ExecutorContract_OutOfRangeState_TreatedAsUnknown()
    {
        var inner = new MockTableExecutor { AddResult = true };
        var executor = new StatusRewritingExecutor(inner, status => status with { State = (TableState)42 });
        var agent = new Capstan.Core.Agent.Agent(Identity, executor, new LivenessFlag(), KnownOwner);
        var outbox = new List<Message>();

        agent.Tick([Prepare(Span1), Heartbeat()], outbox);

        Assert.Equal(TableState.Unknown, HeartbeatResponseOf(Assert.Single(outbox)).Tables[0].State);
        Assert.Equal(1, agent.TrackedSpanCount);
        Assert.True(agent.Counters.ExecutorErrors >= 2);
    }

    [Fact(DisplayName = "Executor contract: a state that never settles stops after a bounded number of steps and is counted (Go would loop forever)")]
    public void ExecutorContract_StateNeverSettles_Bounded()
    {
        var inner = new MockTableExecutor { AddResult = true, AddFinishedResult = true };
        inner.SetState(Span1, TableState.Prepared);
        int calls = 0;
        var executor = new StatusRewritingExecutor(inner, status => status with
        {
            State = calls++ % 2 == 0 ? TableState.Preparing : TableState.Prepared,
        });
        var agent = new Capstan.Core.Agent.Agent(Identity, executor, new LivenessFlag(), KnownOwner);
        var outbox = new List<Message>();

        agent.Tick([Commit(Span1)], outbox);

        Assert.Empty(outbox);
        Assert.Equal(1, agent.Counters.ExecutorErrors);
        Assert.True(calls < 4 * TrackedSpan.MaxStepsPerPoll, $"{calls} status calls");
    }

    public static TheoryData<string, Message> MalformedMessages() => new()
    {
        { "type Unknown", new Message { Header = OwnerHeader(revision: 2), Type = MessageType.Unknown, From = OwnerCapture } },
        { "heartbeat without payload", Heartbeat() with { Header = OwnerHeader(revision: 2), Heartbeat = null } },
        { "two payloads", Heartbeat() with { Header = OwnerHeader(revision: 2), DispatchTableRequest = Prepare(SpanOf(1)).DispatchTableRequest } },
        { "request with neither add nor remove", Prepare(SpanOf(1)) with { Header = OwnerHeader(revision: 2), DispatchTableRequest = new DispatchTableRequest() } },
        { "a response type (agents never handle it)", new Message
            {
                Header = OwnerHeader(revision: 2), Type = MessageType.HeartbeatResponse, From = OwnerCapture, HeartbeatResponse = new HeartbeatResponse(),
            }
        },
        { "no sender", Heartbeat() with { Header = OwnerHeader(revision: 2), From = default } },
    };

    [Theory(DisplayName = "Malformed message: dropped and counted before it can change the owner; nothing crashes (Go adopts the owner first)")]
    [MemberData(nameof(MalformedMessages))]
    public void MalformedMessage_DroppedAndCounted(string what, Message message)
    {
        var harness = new AgentHarness();

        Assert.Empty(harness.Tick(message));

        Assert.True(new AgentCounters { MalformedMessagesDropped = 1 } == harness.Agent.Counters, what);
        Assert.Equal(KnownOwner, harness.Agent.Owner);
        Assert.Equal(0, harness.Agent.TrackedSpanCount);
    }

    [Fact(DisplayName = "Malformed message: a null entry in the inbox is dropped and counted")]
    public void MalformedMessage_NullEntry_Counted()
    {
        var harness = new AgentHarness();
        Assert.Single(harness.Tick(null!, Heartbeat()));
        Assert.Equal(1, harness.Agent.Counters.MalformedMessagesDropped);
    }

    [Fact(DisplayName = "Remove of an untracked span → no response (as Go), counted as ignored; the executor is not called")]
    public void RemoveUntracked_NoResponse()
    {
        var harness = new AgentHarness();
        harness.Executor.SetState(Span1, TableState.Replicating);

        Assert.Empty(harness.Tick(RemoveTable(Span1)));

        Assert.Equal(new AgentCounters { UntrackedRemoveRequestsIgnored = 1 }, harness.Agent.Counters);
        Assert.Equal(TableState.Replicating, harness.Executor.StateOf(Span1));
        Assert.Equal(0, harness.Executor.StatusCalls);
    }

    [Fact(DisplayName = "Processor epoch: not regenerated when a new owner takes over; the new owner's requests with the learned epoch are accepted")]
    public void ProcessorEpoch_KeptAcrossOwnerChange()
    {
        var harness = new AgentHarness();
        harness.Executor.AddResult = true;

        Message response = Assert.Single(harness.Tick(FromOwner(Heartbeat(), 5, "owner-2")));
        Assert.Equal(AgentEpoch, response.Header.ProcessorEpoch);
        Assert.Equal(AgentEpoch, harness.Agent.Identity.Epoch);

        harness.Tick(FromOwner(Prepare(Span1) with { Header = OwnerHeader(revision: 5) }, 5, "owner-2"));
        Assert.Equal(1, harness.Agent.TrackedSpanCount);
        Assert.Equal(0, harness.Agent.Counters.WrongProcessorEpochRequestsDropped);
    }

    private static void ResendUntil(AgentHarness harness, Message request, TableState target, bool isRemove)
    {
        for (int attempt = 0; attempt < 5; attempt++)
        {
            foreach (Message message in harness.Tick(request))
            {
                TableStatus status = isRemove ? RemoveStatus(message) : AddStatus(message);
                if (status.State == target)
                {
                    return;
                }
            }
        }

        Assert.Fail($"{request.DispatchTableRequest} never reached {target}; counters {harness.Agent.Counters}");
    }

    /// <summary>A mock whose statuses pass through a rewrite: an executor that breaks its contract.</summary>
    private sealed class StatusRewritingExecutor(MockTableExecutor inner, Func<TableStatus, TableStatus> rewrite) : ITableExecutor
    {
        public bool AddTableSpan(Span span, Checkpoint checkpoint, bool isPrepare) => inner.AddTableSpan(span, checkpoint, isPrepare);

        public bool IsAddTableSpanFinished(Span span, bool isPrepare) => inner.IsAddTableSpanFinished(span, isPrepare);

        public bool RemoveTableSpan(Span span) => inner.RemoveTableSpan(span);

        public bool IsRemoveTableSpanFinished(Span span, out Ts checkpointTs) => inner.IsRemoveTableSpanFinished(span, out checkpointTs);

        public TableStatus GetTableSpanStatus(Span span, bool collectStats) => rewrite(inner.GetTableSpanStatus(span, collectStats));
    }
}
