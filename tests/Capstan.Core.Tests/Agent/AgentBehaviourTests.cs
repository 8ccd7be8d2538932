namespace Capstan.Core.Tests.Agent;

using Capstan.Core.Agent;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using static AgentHarness;

/// <summary>Details of spec §5.3–§5.8 beyond the §10.4 scenarios.</summary>
public class AgentBehaviourTests
{
    private static readonly Span Span1 = SpanOf(1);

    [Fact(DisplayName = "Send: heartbeat responses go before dispatch responses, all stamped with the agent's header and addressed to the owner")]
    public void Send_HeartbeatResponsesFirst_Stamped()
    {
        var harness = new AgentHarness();
        harness.Executor.AddResult = true;
        harness.Executor.AddFinishedResult = true;

        List<Message> outbox = harness.Tick(Prepare(Span1), Heartbeat(), Heartbeat());

        Assert.Equal(
            [MessageType.HeartbeatResponse, MessageType.HeartbeatResponse, MessageType.DispatchTableResponse],
            outbox.Select(message => message.Type));
        var header = new Header(AgentVersion, OwnerRevision1, AgentEpoch, FeedEpoch);
        Assert.All(outbox, message =>
        {
            Assert.Equal(header, message.Header);
            Assert.Equal(AgentCapture, message.From);
            Assert.Equal(OwnerCapture, message.To);
            Assert.True(message.IsWellFormed);
        });
    }

    [Fact(DisplayName = "Send: the outbox is appended to, never cleared")]
    public void Send_AppendsToOutbox()
    {
        var harness = new AgentHarness();
        var marker = new Message { Type = MessageType.Heartbeat, Heartbeat = Capstan.Core.Protocol.Heartbeat.Empty };
        var outbox = new List<Message> { marker };

        harness.Agent.Tick([Heartbeat()], outbox);

        Assert.Same(marker, outbox[0]);
        Assert.Equal(2, outbox.Count);
    }

    [Fact(DisplayName = "Barrier: the last heartbeat's barrier of the tick is returned; a tick without heartbeat returns null")]
    public void Barrier_LastHeartbeatWins()
    {
        var harness = new AgentHarness();
        var first = new Barrier { GlobalBarrierTs = 5 };
        var second = new Barrier { GlobalBarrierTs = 7, TableBarriers = [new TableBarrier(1, 6)] };

        harness.Tick(Heartbeat(new Heartbeat { Barrier = first }), Heartbeat(new Heartbeat { Barrier = second }));
        Assert.Same(second, harness.LastResult.Barrier);

        harness.Tick(Heartbeat(new Heartbeat { Barrier = first }), Heartbeat(new Heartbeat()));
        Assert.Null(harness.LastResult.Barrier);

        harness.Tick(Prepare(Span1));
        Assert.Null(harness.LastResult.Barrier);
    }

    [Fact(DisplayName = "Stats: only a CollectStats heartbeat carries stats, only for tracked spans; dispatch responses never do")]
    public void Stats_OnlyWhenCollected()
    {
        var harness = new AgentHarness();
        var stats = new Stats { RegionCount = 3, BarrierTs = 9 };
        harness.Executor.ReportedStats = stats;
        harness.Executor.ReportedCheckpoint = new Checkpoint(4, 5, 0);
        harness.Executor.AddResult = true;
        harness.Executor.AddFinishedResult = true;

        List<Message> outbox = harness.Tick(Commit(Span1), Heartbeat(new Heartbeat { CollectStats = true, Spans = [SpanOf(2)] }));
        Assert.Null(AddStatus(outbox[1]).Stats);

        IReadOnlyList<TableStatus> collected = HeartbeatResponseOf(harness.Tick(Heartbeat(new Heartbeat { CollectStats = true, Spans = [SpanOf(2)] }))[0]).Tables;
        Assert.Equal(new TableStatus(Span1, TableState.Replicating, new Checkpoint(4, 5, 0), stats), collected[0]);
        Assert.Equal(new TableStatus(SpanOf(2), TableState.Absent, default), collected[1]);

        IReadOnlyList<TableStatus> plain = HeartbeatResponseOf(harness.Tick(Heartbeat())[0]).Tables;
        Assert.Null(Assert.Single(plain).Stats);
    }

    [Fact(DisplayName = "Remove response: a zero resolved ts below the checkpoint takes the checkpoint; add responses are left alone")]
    public void RemoveResponse_ZeroResolvedTakesCheckpoint()
    {
        var harness = new AgentHarness();
        harness.Executor.ReportedCheckpoint = new Checkpoint(10, 0, 0);
        harness.Executor.AddResult = true;
        harness.Executor.AddFinishedResult = true;

        Assert.Equal(new Checkpoint(10, 0, 0), AddStatus(harness.Tick(Commit(Span1))[0]).Checkpoint);

        harness.Executor.RemoveResult = false;
        TableStatus stopping = RemoveStatus(Assert.Single(harness.Tick(RemoveTable(Span1))));
        Assert.Equal(new TableStatus(Span1, TableState.Stopping, new Checkpoint(10, 10, 0)), stopping);

        harness.Executor.ReportedCheckpoint = new Checkpoint(10, 8, 0);
        TableStatus stillStopping = RemoveStatus(Assert.Single(harness.Tick()));
        Assert.Equal(new Checkpoint(10, 8, 0), stillStopping.Checkpoint);
    }

    [Fact(DisplayName = "One task per span: a remove while a prepare is running is ignored and counted; once the prepare is done a resent remove works (§13 #17)")]
    public void OneTaskPerSpan_RemoveDuringPrepareIgnored()
    {
        var harness = new AgentHarness();
        harness.Executor.AddResult = true;
        harness.Executor.AddFinishedResult = false;
        harness.Executor.RemoveResult = true;
        harness.Executor.RemoveFinishedResult = true;
        Assert.Empty(harness.Tick(Prepare(Span1)));

        Assert.Empty(harness.Tick(RemoveTable(Span1)));
        Assert.Equal(1, harness.Agent.Counters.BusySpanRequestsIgnored);
        Assert.Equal(TableState.Preparing, harness.Executor.StateOf(Span1));

        harness.Executor.AddFinishedResult = true;
        Assert.Equal(TableState.Prepared, AddStatus(Assert.Single(harness.Tick())).State);
        Assert.Equal(TableState.Stopped, RemoveStatus(Assert.Single(harness.Tick(RemoveTable(Span1)))).State);
        Assert.Equal(0, harness.Agent.TrackedSpanCount);
    }

    [Fact(DisplayName = "Heartbeat reflects the state before this tick's task progress (§13 #19)")]
    public void Heartbeat_BuiltBeforePoll()
    {
        var harness = new AgentHarness();
        harness.Executor.AddResult = true;
        harness.Executor.AddFinishedResult = true;

        List<Message> outbox = harness.Tick(Prepare(Span1), Heartbeat());

        Assert.Equal(TableState.Absent, HeartbeatResponseOf(outbox[0]).Tables[0].State);
        Assert.Equal(TableState.Prepared, AddStatus(outbox[1]).State);
    }

    [Fact(DisplayName = "Liveness is capture-wide: a drain heartbeat to one changefeed's agent makes the capture's other agents report Stopping")]
    public void Liveness_SharedByAgentsOfACapture()
    {
        var liveness = new LivenessFlag();
        var feedA = new AgentHarness(liveness: liveness);
        var feedB = new AgentHarness(liveness: liveness);

        feedA.Tick(Heartbeat(new Heartbeat { IsStopping = true }));

        Assert.Equal(Liveness.Stopping, HeartbeatResponseOf(Assert.Single(feedB.Tick(Heartbeat()))).Liveness);
    }

    [Fact(DisplayName = "New owner: tracked spans and in-flight tasks are kept; their responses go to the new owner with its revision")]
    public void NewOwner_InheritsSpansAndTasks()
    {
        var harness = new AgentHarness();
        harness.Executor.AddResult = true;
        harness.Executor.AddFinishedResult = false;
        Assert.Empty(harness.Tick(Prepare(Span1)));

        harness.Executor.AddFinishedResult = true;
        List<Message> outbox = harness.Tick(FromOwner(Heartbeat(Span1), 2, "owner-2"));

        Assert.Equal(TableState.Preparing, HeartbeatResponseOf(outbox[0]).Tables[0].State);
        Message added = outbox[1];
        Assert.Equal(TableState.Prepared, AddStatus(added).State);
        Assert.Equal(new CaptureId("owner-2"), added.To);
        Assert.Equal(new OwnerRevision(2), added.Header.OwnerRevision);
    }

    [Fact(DisplayName = "Owner change within one batch: the older owner's message is dropped as stale even if it came first (Go's receive-then-handle)")]
    public void OwnerChangeWithinBatch_OlderMessageStale()
    {
        var harness = new AgentHarness();

        List<Message> outbox = harness.Tick(Heartbeat(), FromOwner(Heartbeat(), 2, "owner-2"));

        Message response = Assert.Single(outbox);
        Assert.Equal(new CaptureId("owner-2"), response.To);
        Assert.Equal(1, harness.Agent.Counters.StaleOwnerMessagesDropped);
    }

    [Fact(DisplayName = "Commit on a brand-new span goes through Preparing and Prepared: AddTableSpan(commit) is issued again on Prepared")]
    public void CommitOnNewSpan_GoesThroughPrepared()
    {
        var harness = new AgentHarness();
        harness.Executor.AddResult = true;
        harness.Executor.AddFinishedResult = false;

        Assert.Empty(harness.Tick(Commit(Span1)));
        Assert.Equal(TableState.Prepared, harness.Executor.StateOf(Span1)); // the mock's "not finished" for a commit

        harness.Executor.AddFinishedResult = true;
        Assert.Equal(TableState.Replicating, AddStatus(Assert.Single(harness.Tick())).State);
    }

    [Fact(DisplayName = "Add on a Stopping span is ignored: the status is reported and the task cleared, so a later remove is accepted")]
    public void AddOnStoppingSpan_Ignored()
    {
        var harness = new AgentHarness();
        harness.Executor.SetState(Span1, TableState.Stopping);

        Assert.Equal(TableState.Stopping, AddStatus(Assert.Single(harness.Tick(Prepare(Span1)))).State);
        Assert.Equal(TableState.Stopping, harness.Executor.StateOf(Span1));

        harness.Executor.RemoveFinishedResult = true;
        harness.Executor.RemoveCheckpointTs = 42;
        TableStatus status = RemoveStatus(Assert.Single(harness.Tick(RemoveTable(Span1))));
        Assert.Equal(new TableStatus(Span1, TableState.Stopped, new Checkpoint(42, 42, 0)), status);
        Assert.Equal(0, harness.Agent.Counters.BusySpanRequestsIgnored);
    }
}
