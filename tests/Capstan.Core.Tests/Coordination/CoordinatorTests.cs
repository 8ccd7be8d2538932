namespace Capstan.Core.Tests.Coordination;

using Capstan.Core.Coordination;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Spans;
using static CoordinatorHarness;

public class CoordinatorTests
{
    [Fact(DisplayName = "Send: every message carries version, owner revision, changefeed epoch, the sender, and the target's processor epoch once known")]
    public void Send_StampsHeaders()
    {
        var h = new CoordinatorHarness(epoch: new ChangefeedEpoch(7));
        h.SetAlive("a", "b");
        var first = h.Tick();
        Assert.Equal(2, first.Outbox.Count);
        Assert.All(first.Outbox, m =>
        {
            Assert.Equal(MessageType.Heartbeat, m.Type);
            Assert.Equal(new CaptureId("a"), m.From);
            Assert.Equal("1.0.0", m.Header.Version);
            Assert.Equal(Revision, m.Header.OwnerRevision);
            Assert.Equal(new ChangefeedEpoch(7), m.Header.ChangefeedEpoch);
            Assert.True(m.Header.ProcessorEpoch.IsNone);
        });

        h.Tables.Add(1);
        var second = h.Tick(h.Response("a"), h.Response("b"));
        var add = Assert.Single(second.Outbox);
        Assert.Equal(MessageType.DispatchTableRequest, add.Type);
        Assert.Equal("epoch-" + add.To.Value, add.Header.ProcessorEpoch.Value);
    }

    [Fact(DisplayName = "Receive: only messages of our owner revision addressed to us reach the scheduler")]
    public void Receive_FiltersRevisionAndTarget()
    {
        var h = new CoordinatorHarness();
        h.SetAlive("a", "b");
        h.Tick();
        var good = h.Response("b");
        var staleOwner = good with { Header = good.Header with { OwnerRevision = new OwnerRevision(0) } };
        var wrongTarget = good with { To = "c" };
        h.Tick(staleOwner, wrongTarget);
        Assert.False(h.Coordinator.Captures[new CaptureId("b")].State == Capstan.Core.Member.CaptureState.Initialized);
        Assert.Equal(1, h.Coordinator.Counters.DroppedStaleOwner);
        Assert.Equal(1, h.Coordinator.Counters.DroppedWrongTarget);
        h.Tick(good);
        Assert.Equal(Capstan.Core.Member.CaptureState.Initialized, h.Coordinator.Captures[new CaptureId("b")].State);
    }

    [Fact(DisplayName = "Heartbeat: two captures answer with tables 1 and 2 replicating → initialised, and the basic scheduler adds table 3")]
    public void Heartbeat_InitialisesAndAddsMissingTable()
    {
        var h = new CoordinatorHarness();
        h.Tables.AddRange([1, 2, 3]);
        h.SetAlive("a", "b");
        var first = h.Tick();
        Assert.Equal(2, first.Outbox.Count);
        Assert.False(h.Coordinator.IsInitialized);

        var second = h.Tick(h.Response("a", Replicating(1), Replicating(2)), h.Response("b"));
        Assert.True(h.Coordinator.IsInitialized);
        var add = Assert.Single(second.Outbox);
        Assert.Equal(TableSpans.WholeTable(3), add.DispatchTableRequest!.AddTable!.Span);
        Assert.True(add.DispatchTableRequest.AddTable.IsSecondary);
        Assert.Equal(3, h.Coordinator.ReplicationSets.Count);
    }

    [Fact(DisplayName = "Add capture: a new capture gets one heartbeat, and once it answers the balance scheduler moves a table to it")]
    public void AddCapture_BalanceMovesATable()
    {
        var h = new CoordinatorHarness(new SchedulerConfig { HeartbeatTicks = 1_000_000, CheckBalanceIntervalTicks = 1 });
        h.Tables.AddRange([1, 2, 3]);
        h.SetAlive("a");
        h.Initialise(new Dictionary<string, TableStatus[]> { ["a"] = [Replicating(1), Replicating(2), Replicating(3)] });

        h.SetAlive("a", "b");
        var discover = h.Tick();
        var heartbeat = Assert.Single(discover.Outbox);
        Assert.Equal(new CaptureId("b"), heartbeat.To);
        Assert.Equal(MessageType.Heartbeat, heartbeat.Type);

        var answer = h.Tick(h.Response("b"));
        var move = Assert.Single(answer.Outbox);
        Assert.Equal(new CaptureId("b"), move.To);
        Assert.True(move.DispatchTableRequest!.AddTable!.IsSecondary);
    }

    [Fact(DisplayName = "Remove capture: c disappears → its table is added elsewhere")]
    public void RemoveCapture_ReaddsItsTable()
    {
        var h = new CoordinatorHarness();
        h.Tables.AddRange([1, 2, 3]);
        h.SetAlive("a", "b", "c");
        h.Initialise(new Dictionary<string, TableStatus[]>
        {
            ["a"] = [Replicating(1)], ["b"] = [Replicating(2)], ["c"] = [Replicating(3)],
        });

        h.SetAlive("a", "b");
        var result = h.Tick();
        var add = Assert.Single(result.Outbox);
        Assert.Equal(TableSpans.WholeTable(3), add.DispatchTableRequest!.AddTable!.Span);
        Assert.NotEqual(new CaptureId("c"), add.To);
    }

    [Fact(DisplayName = "Drain: results say whether the drain was accepted, done or refused, and why")]
    public void DrainCapture_ResultsAreExplicit()
    {
        var h = new CoordinatorHarness();
        h.Tables.AddRange([1]);
        h.SetAlive("a", "b");
        h.Tick();
        var early = h.Coordinator.DrainCapture("b");
        Assert.Equal(DrainStatus.Refused, early.Status);
        Assert.True(early.RemainingTables >= 1);

        h.Tick(h.Response("a"), h.Response("b", Replicating(1)));
        Assert.Equal(DrainStatus.Done, h.Coordinator.DrainCapture("a").Status);
        Assert.Equal(DrainStatus.Refused, h.Coordinator.DrainCapture("zz").Status);

        var accepted = h.Coordinator.DrainCapture("b");
        Assert.Equal(DrainStatus.Accepted, accepted.Status);
        Assert.Equal(1, accepted.RemainingTables);
        Assert.Equal(new CaptureId("b"), h.Coordinator.DrainingTarget);
        Assert.Equal(DrainStatus.Accepted, h.Coordinator.DrainCapture("b").Status);
    }

    [Fact(DisplayName = "Drain: the owner and a lone capture cannot be drained")]
    public void DrainCapture_RefusesOwnerAndLoneCapture()
    {
        var h = new CoordinatorHarness();
        h.Tables.AddRange([1, 2]);
        h.SetAlive("a");
        h.Initialise(new Dictionary<string, TableStatus[]> { ["a"] = [Replicating(1)] });
        var lone = h.Coordinator.DrainCapture("a");
        Assert.Equal(DrainStatus.Refused, lone.Status);
        Assert.Contains("only one capture", lone.Reason);

        var two = new CoordinatorHarness();
        two.SetAlive("a", "b");
        two.Tables.AddRange([1, 2]);
        two.Initialise(new Dictionary<string, TableStatus[]> { ["a"] = [Replicating(1)], ["b"] = [Replicating(2)] });
        var owner = two.Coordinator.DrainCapture("a");
        Assert.Equal(DrainStatus.Refused, owner.Status);
        Assert.Contains("owner", owner.Reason);
    }

    [Fact(DisplayName = "Checkpoint: the watermark is the minimum over tables, and advances even while a new capture has not answered")]
    public void AdvanceCheckpoint_AdvancesWhileUninitialised()
    {
        var h = new CoordinatorHarness { GlobalBarrierTs = new Ts(5) };
        h.Tables.AddRange([1, 2]);
        h.SetAlive("a", "b");
        h.Tick();
        var init = h.Tick(
            h.Response("a", Status(1, TableState.Replicating, 2, 4, 3)),
            h.Response("b", Status(2, TableState.Replicating, 2, 4, 4)));
        Assert.Equal(new Ts(2), init.Watermark.CheckpointTs);
        Assert.Equal(new Ts(4), init.Watermark.ResolvedTs);
        Assert.Equal(new Ts(4), init.Watermark.LastSyncedTs);

        h.SetAlive("a", "b", "c");
        var later = h.Tick(
            h.Response("a", Status(1, TableState.Replicating, 3, 5, 4)),
            h.Response("b", Status(2, TableState.Replicating, 4, 5, 6)));
        Assert.False(h.Coordinator.IsInitialized);
        Assert.Equal(new Ts(3), later.Watermark.CheckpointTs);
        Assert.Equal(new Ts(5), later.Watermark.ResolvedTs);
        Assert.Equal(new Ts(6), later.Watermark.LastSyncedTs);
    }

    [Fact(DisplayName = "Checkpoint: a table without any replication set means cannot proceed")]
    public void AdvanceCheckpoint_MissingTable_CannotProceed()
    {
        var h = new CoordinatorHarness();
        h.Tables.AddRange([1, 2]);
        h.SetAlive("a", "b");
        h.Tick();
        // b never answers: nothing is scheduled, so table 2 has no set.
        var result = h.Tick(h.Response("a", Replicating(1, 5, 6)));
        Assert.False(h.Coordinator.IsInitialized);
        Assert.False(result.Watermark.CanProceed);
        Assert.Equal(Ts.Zero, result.Watermark.CheckpointTs);
    }

    [Fact(DisplayName = "Changefeed epoch: responses of another changefeed incarnation are dropped")]
    public void Receive_DropsOtherChangefeedEpoch()
    {
        var h = new CoordinatorHarness(epoch: new ChangefeedEpoch(1));
        h.SetAlive("a", "b");
        h.Tick();
        var stale = h.Response("b") with { Header = h.Response("b").Header with { ChangefeedEpoch = new ChangefeedEpoch(2) } };
        h.Tick(stale);
        Assert.Equal(1, h.Coordinator.Counters.DroppedChangefeedEpoch);
        Assert.Equal(Capstan.Core.Member.CaptureState.Uninitialized, h.Coordinator.Captures[new CaptureId("b")].State);
    }

    [Fact(DisplayName = "Task statuses: each capture maps to the tables of its last heartbeat response, with their checkpoint")]
    public void GetTaskStatuses_FromLastResponses()
    {
        var h = new CoordinatorHarness();
        h.SetAlive("a", "b");
        h.Tick();
        h.Tick(h.Response("a", Replicating(1), Replicating(2)), h.Response("b"));
        var statuses = h.Coordinator.GetTaskStatuses();
        Assert.Equal(new Dictionary<TableId, Ts> { [1] = new Ts(1), [2] = new Ts(1) }, statuses[new CaptureId("a")]);
        Assert.Empty(statuses[new CaptureId("b")]);
    }

    [Fact(DisplayName = "Restart: a capture answering with a new processor epoch is re-initialised and its tables are re-added, not ignored forever (Go bug §13 #1)")]
    public void Restart_NewEpoch_DropsRolesAndReinitialises()
    {
        var h = new CoordinatorHarness();
        h.Tables.AddRange([1, 2]);
        h.SetAlive("a", "b");
        h.Initialise(new Dictionary<string, TableStatus[]> { ["a"] = [Replicating(1)], ["b"] = [Replicating(2)] });
        Assert.Equal(new CaptureId("b"), h.Set(2).Primary);

        // b restarted: same id, new epoch, holds nothing.
        var result = h.Tick(h.Response("b", "epoch-b-2"));
        Assert.Equal(1, h.Coordinator.Counters.CaptureRestarts);
        Assert.Equal("epoch-b-2", h.Coordinator.Captures[new CaptureId("b")].Epoch.Value);
        Assert.True(h.Coordinator.IsInitialized);
        var add = Assert.Single(result.Outbox);
        Assert.Equal(TableSpans.WholeTable(2), add.DispatchTableRequest!.AddTable!.Span);
        Assert.Equal(h.Set(2).Secondary, add.To);

        // A late response of b's former incarnation is dropped.
        h.Tick(h.Response("b", "epoch-b", Replicating(2, 9, 9)));
        Assert.Equal(1, h.Coordinator.Counters.DroppedStaleProcessorEpoch);
        Assert.NotEqual(ReplicationSetState.Replicating, h.Set(2).State);
    }

    [Fact(DisplayName = "Inconsistency: two captures both replicating a table fail the tick and send nothing")]
    public void MultiplePrimary_FailsTheTick()
    {
        var h = new CoordinatorHarness();
        h.Tables.AddRange([1]);
        h.SetAlive("a", "b");
        h.Tick();
        var result = h.Coordinator.Tick(new TickInput
        {
            CheckpointTs = h.CheckpointTs,
            CurrentTables = h.Tables,
            AliveCaptures = h.Alive,
            Inbox = [h.Response("a", Replicating(1)), h.Response("b", Replicating(1))],
        });
        Assert.True(result.Failed);
        Assert.IsAssignableFrom<ReplicationSetInconsistentException>(result.Error);
        Assert.Empty(result.Outbox);
        Assert.False(result.Watermark.CanProceed);
    }

    [Fact(DisplayName = "Malformed input: a message whose payload does not match its type is dropped and counted")]
    public void Receive_DropsMalformed()
    {
        var h = new CoordinatorHarness();
        h.SetAlive("a");
        h.Tick();
        var bad = h.Response("a") with { Type = MessageType.DispatchTableResponse };
        h.Tick(bad);
        Assert.Equal(1, h.Coordinator.Counters.DroppedMalformed);
    }

    [Fact(DisplayName = "Move table: refused with a reason when the table is unknown, the target unknown or already the primary; accepted otherwise")]
    public void MoveTable_ResultsAreExplicit()
    {
        var h = new CoordinatorHarness();
        h.Tables.AddRange([1]);
        h.SetAlive("a", "b");
        Assert.False(h.Coordinator.MoveTable(1, "b").Accepted);
        h.Initialise(new Dictionary<string, TableStatus[]> { ["a"] = [Replicating(1)], ["b"] = [] });
        Assert.Contains("does not exist", h.Coordinator.MoveTable(1, "zz").Reason);
        Assert.Contains("not replicated", h.Coordinator.MoveTable(9, "b").Reason);
        Assert.Contains("already", h.Coordinator.MoveTable(1, "a").Reason);
        Assert.True(h.Coordinator.MoveTable(1, "b").Accepted);

        var result = h.Tick();
        var prepare = Assert.Single(result.Outbox);
        Assert.Equal(new CaptureId("b"), prepare.To);
        Assert.Equal(ReplicationSetState.Prepare, h.Set(1).State);
        Assert.Contains(h.Coordinator.History.Snapshot(1), e => e.Kind == "moveTable" && e.Capture == new CaptureId("b"));
    }
}
