namespace Capstan.Core.Tests.Agent;

using Capstan.Core.Agent;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using static AgentHarness;

/// <summary>The acceptance scenarios of spec §10.4 (TiCDC's agent_test.go and table_test.go), fed through <see cref="Capstan.Core.Agent.Agent.Tick"/>.</summary>
public class AgentScenarioTests
{
    private static readonly Span Span1 = SpanOf(1);

    // §10.4 #1 TestNewAgent (the parts that do not need etcd)
    [Fact(DisplayName = "Creation: with a known owner → its messages are accepted and responses are addressed to it")]
    public void Creation_WithKnownOwner_AnswersIt()
    {
        var harness = new AgentHarness();
        Assert.Equal(KnownOwner, harness.Agent.Owner);
        Assert.Equal(0, harness.Agent.TrackedSpanCount);

        Message response = Assert.Single(harness.Tick(Heartbeat()));
        Assert.Equal(OwnerCapture, response.To);
        Assert.Equal(OwnerRevision1, response.Header.OwnerRevision);
    }

    [Fact(DisplayName = "Creation: with no known owner (revision 0) → the agent waits and adopts the first owner that contacts it")]
    public void Creation_WithoutOwner_AdoptsFirstOwner()
    {
        var harness = new AgentHarness(owner: default(OwnerInfo));
        Assert.True(harness.Agent.Owner.IsUnknown);
        Assert.Empty(harness.Tick());

        Message response = Assert.Single(harness.Tick(Heartbeat()));
        Assert.Equal(new OwnerInfo(OwnerCapture, OwnerRevision1, OwnerVersion), harness.Agent.Owner);
        Assert.Equal(OwnerCapture, response.To);
        Assert.Equal(default, harness.Agent.Counters);
    }

    // §10.4 #2 TestAgentHandleMessageDispatchTable
    [Fact(DisplayName = "Dispatch: a prepare on a Stopping capture is still processed; AddTableSpan not done → Absent reported and the span dropped")]
    public void Dispatch_PrepareWhileStopping_IsProcessed()
    {
        var harness = new AgentHarness();
        Assert.True(harness.Liveness.TrySetStopping());
        harness.Executor.AddResult = false;

        TableStatus status = AddStatus(Assert.Single(harness.Tick(Prepare(Span1))));

        Assert.Equal(Span1, status.Span);
        Assert.Equal(TableState.Absent, status.State);
        Assert.Equal(0, harness.Agent.TrackedSpanCount);
    }

    [Fact(DisplayName = "Dispatch: remove of an untracked span → no response; prepare, commit and remove then walk the span through every phase")]
    public void Dispatch_PrepareCommitRemove_WalksEveryPhase()
    {
        var harness = new AgentHarness();
        MockTableExecutor executor = harness.Executor;
        Assert.Empty(harness.Tick(RemoveTable(Span1)));

        executor.AddResult = true;
        executor.AddFinishedResult = false;
        Assert.Empty(harness.Tick(Prepare(Span1)));
        Assert.Equal(1, harness.Agent.TrackedSpanCount);
        Assert.Equal(TableState.Preparing, executor.StateOf(Span1));

        executor.AddFinishedResult = true;
        Assert.Equal(TableState.Prepared, AddStatus(Assert.Single(harness.Tick(Prepare(Span1)))).State);
        Assert.Equal(1, harness.Agent.TrackedSpanCount);

        executor.AddFinishedResult = false;
        Assert.Equal(TableState.Prepared, AddStatus(Assert.Single(harness.Tick(Commit(Span1)))).State);

        executor.AddFinishedResult = true;
        Assert.Equal(TableState.Replicating, AddStatus(Assert.Single(harness.Tick(Commit(Span1)))).State);
        Assert.Equal(1, harness.Agent.TrackedSpanCount);

        executor.RemoveResult = false;
        Assert.Equal(TableState.Stopping, RemoveStatus(Assert.Single(harness.Tick(RemoveTable(Span1)))).State);
        Assert.Equal(TableState.Replicating, executor.StateOf(Span1));
        Assert.Equal(1, harness.Agent.TrackedSpanCount);

        executor.RemoveResult = true;
        executor.RemoveFinishedResult = false;
        executor.RemoveCheckpointTs = 3;
        Assert.Equal(TableState.Stopping, RemoveStatus(Assert.Single(harness.Tick(RemoveTable(Span1)))).State);

        executor.RemoveFinishedResult = true;
        TableStatus stopped = RemoveStatus(Assert.Single(harness.Tick(RemoveTable(Span1))));
        Assert.Equal(new TableStatus(Span1, TableState.Stopped, new Checkpoint(3, 3, Ts.Zero)), stopped);
        Assert.Equal(0, harness.Agent.TrackedSpanCount);
        Assert.Equal(new AgentCounters { UntrackedRemoveRequestsIgnored = 1, BusySpanRequestsIgnored = 4 }, harness.Agent.Counters);
    }

    // §10.4 #3 TestAgentHandleMessageHeartbeat
    [Fact(DisplayName = "Heartbeat: tracked spans report the executor's state in span order; listed untracked spans are Absent and the executor is not asked")]
    public void Heartbeat_ReportsTrackedThenUntrackedAbsent()
    {
        var harness = TrackFiveSpansInEveryState();
        harness.Executor.RecordStatusQueries = true;
        Span[] listed = [.. Enumerable.Range(0, 10).Select(table => SpanOf(table))];

        HeartbeatResponse response = HeartbeatResponseOf(Assert.Single(harness.Tick(Heartbeat(listed))));

        TableState[] expected =
        [
            TableState.Preparing, TableState.Prepared, TableState.Replicating, TableState.Stopping, TableState.Stopped,
            TableState.Absent, TableState.Absent, TableState.Absent, TableState.Absent, TableState.Absent,
        ];
        Assert.Equal(listed, response.Tables.Select(status => status.Span));
        Assert.Equal(expected, response.Tables.Select(status => status.State));
        Assert.Equal(Liveness.Alive, response.Liveness);
        Assert.All(listed.Skip(5), span => Assert.DoesNotContain(span, harness.Executor.StatusQueries));
    }

    [Fact(DisplayName = "Heartbeat: a span with a pending remove is reported Stopping whatever the executor says")]
    public void Heartbeat_PendingRemove_ReportsStopping()
    {
        var harness = TrackFiveSpansInEveryState();
        harness.Executor.RemoveResult = false;

        List<Message> outbox = harness.Tick(RemoveTable(SpanOf(1)), Heartbeat());

        Assert.Equal(TableState.Stopping, HeartbeatResponseOf(outbox[0]).Tables[1].State);
        Assert.Equal(TableState.Stopping, RemoveStatus(outbox[1]).State);
        Assert.Equal(TableState.Prepared, harness.Executor.StateOf(SpanOf(1)));
        Assert.Equal(TableState.Stopping, HeartbeatResponseOf(harness.Tick(Heartbeat())[0]).Tables[1].State);
    }

    [Fact(DisplayName = "Heartbeat: a Stopping capture reports Stopping")]
    public void Heartbeat_StoppingCapture_ReportsStopping()
    {
        var harness = new AgentHarness();
        harness.Liveness.TrySetStopping();
        Assert.Equal(Liveness.Stopping, HeartbeatResponseOf(Assert.Single(harness.Tick(Heartbeat()))).Liveness);
    }

    [Fact(DisplayName = "Heartbeat: IsStopping makes the capture Stopping, and this very response says so")]
    public void Heartbeat_IsStopping_SetsLiveness()
    {
        var harness = new AgentHarness();
        HeartbeatResponse response = HeartbeatResponseOf(Assert.Single(harness.Tick(Heartbeat(new Heartbeat { IsStopping = true }))));
        Assert.Equal(Liveness.Stopping, response.Liveness);
        Assert.Equal(Liveness.Stopping, harness.Liveness.Value);
    }

    // §10.4 #5 TestAgentHandleMessage
    [Fact(DisplayName = "Messages: known owner answered; wrong processor epoch ignored; right epoch tracked; higher revision adopted; Unknown type and lower revision dropped")]
    public void Messages_FromOwnersAndEpochs()
    {
        var harness = new AgentHarness();
        harness.Executor.AddResult = true;
        Assert.Single(harness.Tick(Heartbeat()));

        Message wrongEpoch = Prepare(Span1) with { Header = OwnerHeader(epoch: new ProcessorEpoch("wrong-agent-epoch-1")) };
        Assert.Empty(harness.Tick(wrongEpoch));
        Assert.Equal(0, harness.Agent.TrackedSpanCount);
        Assert.Equal(1, harness.Agent.Counters.WrongProcessorEpochRequestsDropped);

        Assert.Empty(harness.Tick(Prepare(Span1)));
        Assert.Equal(1, harness.Agent.TrackedSpanCount);

        Assert.Single(harness.Tick(FromOwner(Heartbeat(), 2)));
        Assert.Equal(new OwnerRevision(2), harness.Agent.Owner.Revision);

        Message unknown = new() { Header = OwnerHeader(revision: 2), Type = MessageType.Unknown, From = OwnerCapture };
        Assert.Empty(harness.Tick(unknown));
        Assert.Equal(1, harness.Agent.Counters.MalformedMessagesDropped);

        Assert.Empty(harness.Tick(Heartbeat()));
        Assert.Equal(1, harness.Agent.Counters.StaleOwnerMessagesDropped);
    }

    // §10.4 #6 TestAgentUpdateOwnerInfo
    [Fact(DisplayName = "Owner tracking: same revision and id accepted; lower revision dropped; higher revision with a new id adopted")]
    public void OwnerTracking_ByRevision()
    {
        var harness = new AgentHarness();
        Assert.Single(harness.Tick(Heartbeat()));

        Assert.Empty(harness.Tick(FromOwner(Heartbeat(), 0, "owner-2")));
        Assert.Equal(KnownOwner, harness.Agent.Owner);
        Assert.Equal(1, harness.Agent.Counters.StaleOwnerMessagesDropped);

        Message newOwner = FromOwner(Heartbeat(), 2, "owner-2") with { Header = OwnerHeader(revision: 2) with { Version = "version-2" } };
        Message response = Assert.Single(harness.Tick(newOwner));
        Assert.Equal(new OwnerInfo("owner-2", new OwnerRevision(2), "version-2"), harness.Agent.Owner);
        Assert.Equal(new CaptureId("owner-2"), response.To);
        Assert.Equal(new OwnerRevision(2), response.Header.OwnerRevision);
    }

    // §10.4 #7 TestAgentTick
    [Fact(DisplayName = "Tick: first heartbeat (no processor epoch) answered to the owner; a preparing add and an untracked remove answer nothing; the finished prepare answers once")]
    public void Tick_FirstHeartbeatThenPrepare()
    {
        var harness = new AgentHarness();
        Message firstHeartbeat = Heartbeat() with { Header = OwnerHeader(epoch: ProcessorEpoch.None) };

        Message response = Assert.Single(harness.Tick(firstHeartbeat));
        Assert.Equal(MessageType.HeartbeatResponse, response.Type);
        Assert.Equal(OwnerCapture, response.To);
        Assert.Equal(AgentCapture, response.From);
        Assert.Equal(new Header(AgentVersion, OwnerRevision1, AgentEpoch, FeedEpoch), response.Header);

        harness.Executor.AddResult = true;
        harness.Executor.AddFinishedResult = false;
        Assert.Empty(harness.Tick(Prepare(Span1), RemoveTable(new Span(2))));

        harness.Executor.AddFinishedResult = true;
        Message added = Assert.Single(harness.Tick(Prepare(Span1)));
        Assert.Equal(TableState.Prepared, AddStatus(added).State);
    }

    // §10.4 #8 TestAgentHandleLivenessUpdate
    [Fact(DisplayName = "Liveness: an IsStopping heartbeat sets Stopping; nothing can set it back to Alive")]
    public void Liveness_IsOneWay()
    {
        var harness = new AgentHarness();
        Assert.Equal(Liveness.Alive, harness.Liveness.Value);

        harness.Tick(Heartbeat(new Heartbeat { IsStopping = true }));
        Assert.Equal(Liveness.Stopping, harness.Liveness.Value);

        Assert.False(harness.Liveness.TrySetStopping());
        HeartbeatResponse response = HeartbeatResponseOf(Assert.Single(harness.Tick(Heartbeat(new Heartbeat { IsStopping = false }))));
        Assert.Equal(Liveness.Stopping, response.Liveness);
        Assert.Equal(Liveness.Stopping, harness.Agent.Liveness);
    }

    // §10.4 #9 TestAgentCommitAddTableDuringStopping
    [Fact(DisplayName = "Stopping capture: a commit is still processed: first Prepared while starting, then Replicating")]
    public void StoppingCapture_CommitStillProcessed()
    {
        var harness = new AgentHarness();
        harness.Executor.AddResult = true;
        harness.Executor.AddFinishedResult = false;
        Assert.Empty(harness.Tick(Prepare(Span1)));

        harness.Executor.AddFinishedResult = true;
        Assert.Equal(TableState.Prepared, AddStatus(Assert.Single(harness.Tick())).State);

        harness.Liveness.TrySetStopping();
        harness.Executor.AddFinishedResult = false;
        Assert.Equal(TableState.Prepared, AddStatus(Assert.Single(harness.Tick(Commit(Span1)))).State);

        harness.Executor.AddFinishedResult = true;
        Assert.Equal(TableState.Replicating, AddStatus(Assert.Single(harness.Tick())).State);
    }

    // §10.4 #11 TestAgentDropMsgIfChangefeedEpochMismatch (no version gating in Capstan)
    [Fact(DisplayName = "Changefeed epoch: a message of another changefeed epoch is dropped and counted, whatever the owner's version")]
    public void ChangefeedEpoch_MismatchDropped()
    {
        var harness = new AgentHarness();
        harness.Executor.AddResult = true;
        Message matching = Prepare(Span1);
        Message mismatched = Prepare(SpanOf(2)) with { Header = OwnerHeader(changefeedEpoch: 2) };

        harness.Tick(matching, mismatched);
        Assert.Equal(1, harness.Agent.TrackedSpanCount);
        Assert.Equal(1, harness.Agent.Counters.ChangefeedEpochMismatchesDropped);

        Message oldOwner = Heartbeat() with { Header = new Header("4.0.0", new OwnerRevision(2), AgentEpoch, new ChangefeedEpoch(2)) };
        Assert.Empty(harness.Tick(oldOwner));
        Assert.Equal(2, harness.Agent.Counters.ChangefeedEpochMismatchesDropped);
    }

    // §10.4 #12 TestTableManager
    [Fact(DisplayName = "Table manager: an added span starts Absent, and a span the executor reports Absent is dropped")]
    public void TableManager_AddedSpanStartsAbsentAndIsDropped()
    {
        var harness = new AgentHarness();
        harness.Executor.AddResult = false;

        List<Message> outbox = harness.Tick(Prepare(Span1), Heartbeat());

        Assert.Equal([new TableStatus(Span1, TableState.Absent, default)], HeartbeatResponseOf(outbox[0]).Tables);
        Assert.Equal(TableState.Absent, AddStatus(outbox[1]).State);
        Assert.Equal(0, harness.Agent.TrackedSpanCount);
        Assert.Empty(HeartbeatResponseOf(harness.Tick(Heartbeat())[0]).Tables);
    }

    [Fact]
    public void TableSpanManager_GetOrAdd_StartsAbsent_PollDropsIt()
    {
        var counters = new AgentCounterSet();
        var manager = new TableSpanManager(new GuardedExecutor(new MockTableExecutor(), counters));

        TrackedSpan tracked = manager.GetOrAdd(Span1);
        Assert.Same(tracked, manager.GetOrAdd(Span1));
        Assert.Equal(TableState.Absent, tracked.State);
        Assert.Equal(1, manager.Count);

        var responses = new List<DispatchTableResponse>();
        manager.Poll(responses);
        Assert.Empty(responses);
        Assert.Equal(0, manager.Count);
    }

    /// <summary>Tracks spans 0..4 in Preparing, Prepared, Replicating, Stopping and Stopped, by adding them to a seeded executor.</summary>
    private static AgentHarness TrackFiveSpansInEveryState()
    {
        var harness = new AgentHarness();
        TableState[] states = [TableState.Preparing, TableState.Prepared, TableState.Replicating, TableState.Stopping, TableState.Stopped];
        for (int table = 0; table < states.Length; table++)
        {
            harness.Executor.SetState(SpanOf(table), states[table]);
        }

        harness.Executor.AddResult = true;
        harness.Executor.AddFinishedResult = false;
        List<Message> outbox = harness.Tick([.. Enumerable.Range(0, 5).Select(table => Prepare(SpanOf(table)))]);

        Assert.Equal(states.Skip(1), outbox.Select(message => AddStatus(message).State));
        Assert.Equal(5, harness.Agent.TrackedSpanCount);
        return harness;
    }
}
