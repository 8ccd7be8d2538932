namespace Capstan.Core.Tests.Agent;

using Capstan.Core.Agent;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Spans;
using Capstan.Core.Tests.Coordination;
using static AgentHarness;
using Agent = Capstan.Core.Agent.Agent;

/// <summary>
/// The kept stop (docs/AGENT.md, "Kept stops"): after a remove finishes, the agent keeps the
/// span's final checkpoint and reports it in heartbeat responses until the owner has certainly
/// taken it into account, so that an owner crash between the source's Stopped report and the
/// owner reading it no longer makes the successor commit a move's target below the source's
/// final checkpoint (a double sink TiCDC has too).
/// </summary>
public class AgentKeptStopTests
{
    private static readonly Span Span1 = SpanOf(1);
    private static readonly Span Span2 = SpanOf(2);
    private static readonly Span Span3 = SpanOf(3);

    [Fact(DisplayName = "Kept stop: after a remove finishes, an unlisting heartbeat of a new owner reports the final checkpoint with state Unknown")]
    public void FinishedRemove_NewOwnerHeartbeat_ReportsFinalCheckpoint()
    {
        var harness = Replicating(Span1);
        Stop(harness, Span1, finalTs: 42);
        Assert.Equal(0, harness.Agent.TrackedSpanCount);
        Assert.Equal(1, harness.Agent.KeptStopCount);

        var response = HeartbeatResponseOf(Assert.Single(harness.Tick(FromOwner(Heartbeat(), 2, "owner-2"))));

        Assert.Equal([new TableStatus(Span1, TableState.Unknown, new Checkpoint(42, 42, Ts.Zero))], response.Tables);
        Assert.Equal(1, harness.Agent.KeptStopCount);
    }

    [Fact(DisplayName = "Kept stop: every response to an uninitialised new owner (empty heartbeats) carries it, since its capture manager keeps only the latest")]
    public void NewOwnerListingNothing_EveryResponseCarriesIt()
    {
        var harness = Replicating(Span1);
        Stop(harness, Span1, finalTs: 42);

        for (int round = 0; round < 5; round++)
        {
            var response = HeartbeatResponseOf(Assert.Single(harness.Tick(FromOwner(Heartbeat(), 2, "owner-2"))));
            Assert.Equal(TableState.Unknown, Assert.Single(response.Tables).State);
        }
    }

    [Fact(DisplayName = "Kept stop: forgotten, unreported, at the first heartbeat that lists any other span (the owner has built its sets)")]
    public void HeartbeatListingOtherSpans_ForgetsIt()
    {
        var harness = Replicating(Span1, Span2);
        Stop(harness, Span1, finalTs: 42);
        harness.Tick(FromOwner(Heartbeat(), 2, "owner-2"));

        var response = HeartbeatResponseOf(Assert.Single(harness.Tick(FromOwner(Heartbeat(Span2), 2, "owner-2"))));

        Assert.Equal([Span2], response.Tables.Select(status => status.Span));
        Assert.Equal(0, harness.Agent.KeptStopCount);
    }

    [Fact(DisplayName = "Kept stop: forgotten, unreported, when the owner that asked for the remove stops listing the span (it has read the stop)")]
    public void SameOwnerStopsListing_ForgetsIt()
    {
        var harness = Replicating(Span1);
        Stop(harness, Span1, finalTs: 42);

        var response = HeartbeatResponseOf(Assert.Single(harness.Tick(Heartbeat())));

        Assert.Empty(response.Tables);
        Assert.Equal(0, harness.Agent.KeptStopCount);
    }

    [Fact(DisplayName = "Kept stop: while the owner still lists the span it is reported Absent, as any listed untracked span; the next unlisting heartbeat forgets it")]
    public void Listed_ReportedAbsentAsBefore()
    {
        var harness = Replicating(Span1);
        Stop(harness, Span1, finalTs: 42);

        var listed = HeartbeatResponseOf(Assert.Single(harness.Tick(Heartbeat(Span1))));
        Assert.Equal([new TableStatus(Span1, TableState.Absent, default)], listed.Tables);
        Assert.Equal(1, harness.Agent.KeptStopCount);

        Assert.Empty(HeartbeatResponseOf(Assert.Single(harness.Tick(Heartbeat()))).Tables);
        Assert.Equal(0, harness.Agent.KeptStopCount);
    }

    [Fact(DisplayName = "Kept stop: a new owner that lists the span marks it claimed; once that owner stops listing it, it is forgotten even with nothing else listed")]
    public void NewOwnerListsThenUnlists_ForgetsIt()
    {
        var harness = Replicating(Span1);
        Stop(harness, Span1, finalTs: 42);
        harness.Tick(FromOwner(Heartbeat(), 2, "owner-2"));

        harness.Tick(FromOwner(Heartbeat(Span1), 2, "owner-2"));
        Assert.Equal(1, harness.Agent.KeptStopCount);
        Assert.Empty(HeartbeatResponseOf(Assert.Single(harness.Tick(FromOwner(Heartbeat(), 2, "owner-2")))).Tables);
        Assert.Equal(0, harness.Agent.KeptStopCount);
    }

    [Fact(DisplayName = "Kept stop: adding the span to this capture again forgets it; the span is tracked and reported from the executor")]
    public void AddedAgain_ForgetsIt()
    {
        var harness = Replicating(Span1);
        Stop(harness, Span1, finalTs: 42);

        harness.Tick(FromOwner(Prepare(Span1, Checkpoint.At(new Ts(50))), 2, "owner-2"));

        Assert.Equal(0, harness.Agent.KeptStopCount);
        Assert.Equal(1, harness.Agent.TrackedSpanCount);
        var response = HeartbeatResponseOf(Assert.Single(harness.Tick(FromOwner(Heartbeat(), 2, "owner-2"))));
        Assert.Equal(TableState.Prepared, Assert.Single(response.Tables).State);
    }

    [Fact(DisplayName = "Kept stop: a restarted agent (new processor epoch) starts with none, even on the same executor")]
    public void Restart_NewEpoch_StartsEmpty()
    {
        var harness = Replicating(Span1);
        Stop(harness, Span1, finalTs: 42);

        var restarted = new Agent(Identity with { Epoch = new ProcessorEpoch("agent-epoch-2") }, harness.Executor, new LivenessFlag(), KnownOwner);
        var outbox = new List<Message>();
        restarted.Tick([FromOwner(Heartbeat(), 2, "owner-2")], outbox);

        Assert.Equal(0, restarted.KeptStopCount);
        Assert.Empty(HeartbeatResponseOf(Assert.Single(outbox)).Tables);
    }

    [Fact(DisplayName = "Kept stop: a remove that did not finish (span lost by the executor, no final checkpoint) keeps nothing")]
    public void SpanLostWithoutStop_KeepsNothing()
    {
        var harness = Replicating(Span1);
        harness.Executor.SetState(Span1, TableState.Absent);

        harness.Tick();

        Assert.Equal(0, harness.Agent.TrackedSpanCount);
        Assert.Equal(0, harness.Agent.KeptStopCount);
    }

    [Fact(DisplayName = "Kept stop: bounded — fifty spans moved away one by one under a live owner leave nothing kept")]
    public void ManyStopsUnderLiveOwner_NothingKept()
    {
        var spans = Enumerable.Range(1, 51).Select(table => SpanOf(table)).ToArray();
        var harness = Replicating(spans);
        for (int index = 0; index < 50; index++)
        {
            Stop(harness, spans[index], finalTs: 100 + index);
            var remaining = spans[(index + 1)..];
            var response = HeartbeatResponseOf(Assert.Single(harness.Tick(Heartbeat(remaining))));
            Assert.Equal(remaining.Length, response.Tables.Count);
            Assert.Equal(0, harness.Agent.KeptStopCount);
        }
    }

    [Fact(DisplayName = "Kept stops: several, reported in span order after the tracked spans, each forgotten by its own rule")]
    public void Several_ReportedInSpanOrderAfterTracked()
    {
        var harness = Replicating(Span1, Span2, Span3);
        Stop(harness, Span3, finalTs: 30);
        Stop(harness, Span1, finalTs: 10);

        var response = HeartbeatResponseOf(Assert.Single(harness.Tick(FromOwner(Heartbeat(), 2, "owner-2"))));

        Assert.Equal([(Span2, TableState.Replicating), (Span1, TableState.Unknown), (Span3, TableState.Unknown)],
            response.Tables.Select(status => (status.Span, status.State)));
        Assert.Equal(2, harness.Agent.KeptStopCount);
        harness.Tick(FromOwner(Heartbeat(Span2), 2, "owner-2"));
        Assert.Equal(0, harness.Agent.KeptStopCount);
    }

    [Fact(DisplayName = "Kept stop report is harmless to a live set: the span's new secondary in Prepare keeps its role (a Stopped report would drop it)")]
    public void LiveSet_IgnoresKeptStopReport()
    {
        CaptureId primary = "b";
        var set = new ReplicationSet(Span1, new Ts(10), new Dictionary<CaptureId, TableStatus>
        {
            [primary] = new(Span1, TableState.Replicating, Checkpoint.At(new Ts(40))),
        });
        var outbox = new List<Message>();
        set.HandleMoveTable(AgentCapture, outbox);
        Assert.Equal(ReplicationSetState.Prepare, set.State);
        var checkpoint = set.Checkpoint;

        set.Poll(new TableStatus(Span1, TableState.Unknown, new Checkpoint(42, 42, Ts.Zero)), AgentCapture, outbox);

        Assert.Equal(ReplicationSetState.Prepare, set.State);
        Assert.Equal(AgentCapture, set.Secondary);
        Assert.Equal(checkpoint, set.Checkpoint);
        set.Poll(new TableStatus(Span1, TableState.Stopped, new Checkpoint(42, 42, Ts.Zero)), AgentCapture, outbox);
        Assert.Equal(ReplicationSetState.Replicating, set.State); // what reporting Stopped would have done
    }

    [Fact(DisplayName = "Rebuild with a kept stop: {target Prepared, source's kept stop} → Commit with the source's final checkpoint; the target is committed there (TiCDC: at the persisted checkpoint)")]
    public void Rebuild_FoldsKeptStop_CommitsTargetAtFinalCheckpoint()
    {
        CaptureId target = "b";
        var statuses = new Dictionary<CaptureId, TableStatus>
        {
            [target] = new(Span1, TableState.Prepared, Checkpoint.At(new Ts(20))),
            [AgentCapture] = new(Span1, TableState.Unknown, new Checkpoint(42, 42, Ts.Zero)),
        };
        var set = new ReplicationSet(Span1, new Ts(30), statuses);
        Assert.Equal(ReplicationSetState.Commit, set.State);
        Assert.Equal(new Ts(42), set.Checkpoint.CheckpointTs);

        var outbox = new List<Message>();
        set.Poll(statuses[target], target, outbox);

        var commit = Assert.Single(outbox).DispatchTableRequest!.AddTable!;
        Assert.False(commit.IsSecondary);
        Assert.Equal(new Ts(42), commit.Checkpoint.CheckpointTs);
    }

    [Fact(DisplayName = "Rebuild with the move source still Stopping: its later Stopped report folds its final checkpoint before the target is committed (TiCDC commits at the older value)")]
    public void RebuildWithSourceStopping_StoppedFromUndetermined_FoldsFinalCheckpoint()
    {
        CaptureId target = "b";
        var statuses = new Dictionary<CaptureId, TableStatus>
        {
            [target] = new(Span1, TableState.Prepared, Checkpoint.At(new Ts(20))),
            [AgentCapture] = new(Span1, TableState.Stopping, Checkpoint.At(new Ts(40))),
        };
        var set = new ReplicationSet(Span1, new Ts(30), statuses);
        Assert.Equal(ReplicationSetState.Commit, set.State);
        var outbox = new List<Message>();

        set.Poll(new TableStatus(Span1, TableState.Stopped, new Checkpoint(45, 45, Ts.Zero)), AgentCapture, outbox);
        set.Poll(statuses[target], target, outbox);

        var commit = Assert.Single(outbox).DispatchTableRequest!.AddTable!;
        Assert.Equal(new Ts(45), commit.Checkpoint.CheckpointTs);
    }

    /// <summary>An agent whose executor holds <paramref name="spans"/> Replicating, added by the known owner.</summary>
    private static AgentHarness Replicating(params Span[] spans)
    {
        var harness = new AgentHarness();
        harness.Executor.AddResult = true;
        harness.Executor.AddFinishedResult = true;
        harness.Tick(spans.Select(span => Commit(span, Checkpoint.At(new Ts(1)))).ToArray());
        Assert.Equal(spans.Length, harness.Agent.TrackedSpanCount);
        Assert.All(spans, span => Assert.Equal(TableState.Replicating, harness.Executor.StateOf(span)));
        return harness;
    }

    /// <summary>The known owner removes <paramref name="span"/>; it stops at once with checkpoint <paramref name="finalTs"/>.</summary>
    private static void Stop(AgentHarness harness, Span span, long finalTs)
    {
        harness.Executor.RemoveResult = true;
        harness.Executor.RemoveFinishedResult = true;
        harness.Executor.RemoveCheckpointTs = new Ts((ulong)finalTs);
        var stopped = RemoveStatus(Assert.Single(harness.Tick(RemoveTable(span))));
        Assert.Equal(TableState.Stopped, stopped.State);
    }

    [Fact(DisplayName = "Owner crash after the move source stopped, before the owner read it: the successor commits the target at the source's final checkpoint")]
    public void OwnerCrashAfterSourceStopped_TargetCommittedAtFinalCheckpoint()
    {
        var cluster = new MiniCluster(new SchedulerConfig { HeartbeatTicks = 1, CheckBalanceIntervalTicks = 1_000_000 }, "a", ["a", "b", "c"]);
        cluster.SetTables(1, 2, 3, 4, 5, 6);
        cluster.Settle();
        cluster.Run(5);
        var span = TableSpans.WholeTable(1);
        CaptureId source = cluster.Coordinator.ReplicationSets.Ordered()[0].Value.Primary;
        CaptureId target = cluster.Captures.First(capture => capture != source && capture != "a");
        Assert.True(cluster.Coordinator.MoveTable(1, target).Accepted);
        for (int step = 0; cluster.Agent(source).KeptStopCount == 0; step++)
        {
            Assert.True(step < 50, $"source never stopped: {cluster.Describe()}");
            cluster.Step();
        }

        Ts finalTs = cluster.Now; // the source replicated up to the clock of the step in which it stopped
        Ts persisted = cluster.Checkpoint;
        cluster.LoseMessagesToOwner(); // the Stopped report dies with the owner
        cluster.FailOver("b");
        var commits = new List<AddTableRequest>();
        for (int step = 0; step < 50 && !cluster.IsSettled(); step++)
        {
            foreach (var message in cluster.Step().Outbox)
            {
                if (message.DispatchTableRequest?.AddTable is { IsSecondary: false } add && add.Span == span)
                {
                    commits.Add(add);
                }
            }
        }

        Assert.True(cluster.IsSettled(), cluster.Describe());
        Assert.NotEmpty(commits); // resent while the target reports Prepared
        Assert.True(finalTs > persisted, $"the scenario needs the source to have sunk past the persisted checkpoint ({finalTs} vs {persisted})");
        Assert.All(commits, commit => Assert.Equal(finalTs, commit.Checkpoint.CheckpointTs));
        Assert.Equal(target, cluster.Placement().Single(entry => entry.Span == span).Primary);
        Assert.Equal(0, cluster.Agent(source).KeptStopCount); // the successor lists the source's other span
    }

    [Fact(DisplayName = "Owner crash after a dropped table's holder stopped: the kept stop does not resurrect the table (its rebuilt set is removed, nothing is added)")]
    public void OwnerCrashAfterDroppedTableStopped_NotResurrected()
    {
        var cluster = new MiniCluster(new SchedulerConfig { HeartbeatTicks = 1, CheckBalanceIntervalTicks = 1_000_000 }, "a", ["a", "b", "c"]);
        cluster.SetTables(1, 2, 3, 4, 5, 6);
        cluster.Settle();
        var span = TableSpans.WholeTable(2);
        CaptureId holder = cluster.Placement().Single(entry => entry.Span == span).Primary;
        cluster.SetTables(1, 3, 4, 5, 6);
        for (int step = 0; cluster.Agent(holder).KeptStopCount == 0; step++)
        {
            Assert.True(step < 50, $"holder never stopped: {cluster.Describe()}");
            cluster.Step();
        }

        cluster.LoseMessagesToOwner();
        cluster.FailOver("c");
        var adds = new List<AddTableRequest>();
        for (int step = 0; step < 30; step++)
        {
            foreach (var message in cluster.Step().Outbox)
            {
                if (message.DispatchTableRequest?.AddTable is { } add && add.Span == span)
                {
                    adds.Add(add);
                }
            }
        }

        Assert.True(cluster.IsSettled(), cluster.Describe());
        Assert.Empty(adds);
        Assert.False(cluster.Coordinator.ReplicationSets.ContainsKey(span));
        Assert.All(cluster.Captures, capture => Assert.DoesNotContain(span, cluster.Executor(capture).Spans));
        Assert.All(cluster.Captures, capture => Assert.Equal(0, cluster.Agent(capture).KeptStopCount));
    }
}
