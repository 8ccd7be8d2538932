namespace Capstan.Core.Tests.Member;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Spans;
using static Capstan.Core.Tests.Member.MemberFixtures;

public class CaptureManagerTests
{
    private static CaptureManager NewManager(string owner = "1", SchedulerConfig? config = null) =>
        new(owner, Revision, config ?? new SchedulerConfig());

    private static List<Message> Update(CaptureManager manager, params string[] alive)
    {
        var outbox = new List<Message>();
        manager.HandleAliveCaptureUpdate(Alive(alive), outbox);
        return outbox;
    }

    private static void Respond(CaptureManager manager, string from, string epoch, Liveness liveness = Liveness.Alive, params TableStatus[] tables) =>
        manager.HandleMessages([Response(from, epoch, liveness, tables)]);

    // §10.5 #1 (TestCaptureStatusHandleHeartbeatResponse), with the epoch rule of §13 #1.
    [Fact(DisplayName = "Capture status: first response initialises it with that epoch; same epoch + Stopping → Stopping")]
    public void FirstResponseInitialises_SameEpochStopping_Stops()
    {
        var manager = NewManager();
        Update(manager, "c");
        Assert.Equal(CaptureState.Uninitialized, manager.Captures["c"].State);
        Assert.True(manager.Captures["c"].Epoch.IsNone);

        Respond(manager, "c", "test", Liveness.Alive, Status(1, TableState.Replicating));
        Assert.Equal(CaptureState.Initialized, manager.Captures["c"].State);
        Assert.Equal(new ProcessorEpoch("test"), manager.Captures["c"].Epoch);
        Assert.Equal([Status(1, TableState.Replicating)], manager.Captures["c"].Tables);

        Respond(manager, "c", "test", Liveness.Stopping);
        Assert.Equal(CaptureState.Stopping, manager.Captures["c"].State);
        Assert.Empty(manager.Captures["c"].Tables);

        // Stopping is terminal for one incarnation.
        Respond(manager, "c", "test", Liveness.Alive);
        Assert.Equal(CaptureState.Stopping, manager.Captures["c"].State);
    }

    [Fact(DisplayName = "Epoch rule (§13 #1): a new epoch from an initialised capture is a restart — adopted and reported, not ignored forever as in Go")]
    public void NewEpochAfterInitialisation_IsARestart_NotIgnoredAsInGo()
    {
        var manager = NewManager();
        Update(manager, "a", "b");
        Respond(manager, "a", "a1", Liveness.Alive, Status(1, TableState.Replicating));
        Respond(manager, "b", "b1");
        Update(manager, "a", "b");
        Assert.True(manager.IsInitialized);
        Assert.NotNull(manager.TakeChanges());

        Respond(manager, "a", "a2", Liveness.Alive, Status(1, TableState.Absent));

        var a = manager.Captures["a"];
        Assert.Equal(new ProcessorEpoch("a2"), a.Epoch); // Go kept "a1" and dropped every response of a2
        Assert.Equal(CaptureState.Initialized, a.State);
        Assert.Equal(1, a.TableCount);
        Assert.Empty(a.Tables); // after initialisation only the count of the last report is kept
        Assert.Equal([new CaptureId("a")], manager.TakeRestarted());
        Assert.Empty(manager.TakeRestarted());
        Assert.Equal(1, manager.RestartCount);

        // The new incarnation's later responses are accepted.
        Respond(manager, "a", "a2", Liveness.Stopping);
        Assert.Equal(CaptureState.Stopping, manager.Captures["a"].State);
        Assert.True(manager.CheckAllCaptureInitialized());
    }

    [Fact(DisplayName = "Epoch rule: a Stopping capture that restarts Alive becomes Initialized again (a new process)")]
    public void StoppingCaptureRestartsAlive_BecomesInitialized()
    {
        var manager = Captures("owner", ("a", CaptureState.Stopping), ("b", CaptureState.Initialized));

        Respond(manager, "a", "a-next", Liveness.Alive);

        Assert.Equal(CaptureState.Initialized, manager.Captures["a"].State);
        Assert.Equal([new CaptureId("a")], manager.TakeRestarted());
    }

    [Fact(DisplayName = "Epoch rule: a capture that restarts already Stopping is Stopping")]
    public void CaptureRestartsStopping_IsStopping()
    {
        var manager = Initialized("a", "b");

        Respond(manager, "a", "a-next", Liveness.Stopping);

        Assert.Equal(CaptureState.Stopping, manager.Captures["a"].State);
        Assert.Equal([new CaptureId("a")], manager.TakeRestarted());
    }

    [Fact(DisplayName = "Epoch rule: before the manager is initialised a new epoch is adopted without recording a restart")]
    public void NewEpochBeforeInitialisation_AdoptedSilently()
    {
        var manager = NewManager();
        Update(manager, "a", "b");
        Respond(manager, "a", "a1", Liveness.Stopping);
        Respond(manager, "a", "a2", Liveness.Alive, Status(7, TableState.Replicating));

        Assert.Equal(new ProcessorEpoch("a2"), manager.Captures["a"].Epoch);
        Assert.Equal(CaptureState.Initialized, manager.Captures["a"].State);
        Assert.Empty(manager.TakeRestarted());

        Respond(manager, "b", "b1");
        Update(manager, "a", "b");
        var changes = manager.TakeChanges();
        Assert.NotNull(changes?.Init);
        Assert.Equal([Status(7, TableState.Replicating)], changes.Init["a"]);
        Assert.Empty(manager.TakeRestarted());
    }

    [Fact(DisplayName = "Epoch rule: a late response of the superseded incarnation is ignored, no second restart")]
    public void LateResponseOfOldEpoch_IsIgnored()
    {
        var manager = Initialized("a", "b");
        Respond(manager, "a", "a-next", Liveness.Alive, Status(2, TableState.Preparing));
        Assert.Single(manager.TakeRestarted());

        Respond(manager, "a", EpochOf("a"), Liveness.Stopping, Status(1, TableState.Replicating), Status(3, TableState.Replicating));

        var a = manager.Captures["a"];
        Assert.Equal(new ProcessorEpoch("a-next"), a.Epoch);
        Assert.Equal(CaptureState.Initialized, a.State);
        Assert.Equal(1, a.TableCount); // the new incarnation's report, not the stale one (two tables)
        Assert.Empty(a.Tables);
        Assert.Empty(manager.TakeRestarted());
        Assert.Equal(1, manager.IgnoredResponseCount);
    }

    [Fact(DisplayName = "Epoch rule: two restarts before a take are reported once; a removal supersedes a pending restart")]
    public void RepeatedRestarts_ReportedOnce_RemovalSupersedes()
    {
        var manager = Initialized("a", "b", "c");
        Respond(manager, "a", "a2");
        Respond(manager, "a", "a3");
        Respond(manager, "b", "b2");
        Assert.Equal([new CaptureId("a"), new CaptureId("b")], manager.TakeRestarted());

        Respond(manager, "c", "c2", Liveness.Alive, Status(9, TableState.Replicating));
        Update(manager, "a", "b");

        Assert.Empty(manager.TakeRestarted());
        var changes = manager.TakeChanges();
        Assert.Equal([new CaptureId("c")], changes?.Removed?.Keys);
        Assert.Empty(changes!.Removed!["c"]); // statuses are not kept after initialisation
    }

    // §10.5 #2 (TestCaptureManagerHandleAliveCaptureUpdate)
    [Fact(DisplayName = "Alive update: new captures get an empty heartbeat; Init once all answered; later joins and leaves are tracked")]
    public void AliveUpdate_NewCaptures_Init_Removed()
    {
        var manager = NewManager("1");

        var outbox = Update(manager, "3", "1", "2");
        Assert.Equal(["1", "2", "3"], outbox.Select(m => m.To.Value));
        Assert.All(outbox, m =>
        {
            Assert.Equal(MessageType.Heartbeat, m.Type);
            Assert.Equal(Heartbeat.Empty, m.Heartbeat);
        });
        Assert.False(manager.IsInitialized);
        Assert.False(manager.CheckAllCaptureInitialized());
        Assert.Null(manager.TakeChanges());
        Assert.True(manager.Captures["1"].IsOwner);
        Assert.False(manager.Captures["2"].IsOwner);
        Assert.Equal("2:8300", manager.Captures["2"].Address);

        // 1 leaves before initialisation: forgotten silently.
        Assert.Empty(Update(manager, "2", "3"));
        Assert.Null(manager.TakeChanges());

        Respond(manager, "2", "e2", Liveness.Alive, Status(1, TableState.Replicating));
        Respond(manager, "3", "e3", Liveness.Alive, Status(2, TableState.Replicating));
        Assert.False(manager.IsInitialized); // only an alive update flips the flag
        Assert.Empty(Update(manager, "2", "3"));
        Assert.True(manager.IsInitialized);
        Assert.True(manager.CheckAllCaptureInitialized());
        var init = manager.TakeChanges();
        Assert.NotNull(init?.Init);
        Assert.Null(init.Removed);
        Assert.Equal(["2", "3"], init.Init.Keys.Select(k => k.Value));
        Assert.Equal([Status(1, TableState.Replicating)], init.Init["2"]);
        Assert.Equal([Status(2, TableState.Replicating)], init.Init["3"]);
        Assert.Null(manager.TakeChanges());

        // 4 joins and 2 leaves.
        outbox = Update(manager, "3", "4");
        Assert.Equal(["4"], outbox.Select(m => m.To.Value));
        var changes = manager.TakeChanges();
        Assert.NotNull(changes?.Removed);
        Assert.Null(changes.Init);
        Assert.Empty(changes.Removed["2"]); // statuses are not kept after initialisation (TiCDC handed them over)
        Assert.Single(changes.Removed);
        Assert.True(manager.IsInitialized);
        Assert.False(manager.CheckAllCaptureInitialized());

        // A late joiner produces no Init change when it answers.
        Respond(manager, "4", "e4");
        Update(manager, "3", "4");
        Assert.True(manager.CheckAllCaptureInitialized());
        Assert.Null(manager.TakeChanges());
    }

    // §10.5 #3 (TestCaptureManagerHandleMessages)
    [Fact(DisplayName = "Messages: responses alone do not initialise the manager; a response from an unknown capture is ignored")]
    public void HandleMessages_DoNotInitialise_UnknownIgnored()
    {
        var manager = NewManager();
        Update(manager, "1", "2");
        Assert.False(manager.CheckAllCaptureInitialized());

        manager.HandleMessages([Response("1", "e"), Response("2", "e")]);
        Assert.Equal(CaptureState.Initialized, manager.Captures["1"].State);
        Assert.Equal(CaptureState.Initialized, manager.Captures["2"].State);
        Assert.False(manager.CheckAllCaptureInitialized());

        manager.HandleMessages([Response("unknown", "e", Liveness.Alive, Status(1, TableState.Replicating))]);
        Assert.False(manager.Captures.ContainsKey("unknown"));
        Assert.Equal(1, manager.IgnoredResponseCount);

        // Other message types are not the capture manager's business.
        manager.HandleMessages([new Message { Type = MessageType.Heartbeat, From = "1", Heartbeat = Heartbeat.Empty }]);
        Assert.Equal(1, manager.IgnoredResponseCount);

        Update(manager, "1", "2");
        Assert.True(manager.CheckAllCaptureInitialized());
    }

    [Fact(DisplayName = "Initialisation needs at least one capture")]
    public void NoCaptures_NeverInitialised()
    {
        var manager = NewManager();
        Update(manager);
        Assert.False(manager.IsInitialized);
        Assert.False(manager.CheckAllCaptureInitialized());
        Assert.Null(manager.TakeChanges());
    }

    // §10.5 #4 (TestCaptureManagerTick)
    [Fact(DisplayName = "Tick: heartbeats every HeartbeatTicks to every capture, whatever its state, listing every span it holds any role in")]
    public void Tick_SendsHeartbeatsWithSpansPerCapture()
    {
        var manager = NewManager();
        var sets = new SpanMap<ReplicationSet>();
        var outbox = new List<Message>();
        manager.Tick(sets, CaptureId.None, null, outbox);
        manager.Tick(sets, CaptureId.None, null, outbox);
        Assert.Empty(outbox); // no captures, no heartbeats

        Update(manager, "1", "2");
        foreach (var state in new[] { "uninitialized", "initialized", "stopping" })
        {
            if (state == "initialized")
            {
                manager.HandleMessages([Response("1", "e"), Response("2", "e")]);
            }
            else if (state == "stopping")
            {
                manager.HandleMessages([Response("1", "e", Liveness.Stopping), Response("2", "e", Liveness.Stopping)]);
            }

            outbox.Clear();
            manager.Tick(sets, CaptureId.None, null, outbox);
            Assert.Empty(outbox);
            manager.Tick(sets, CaptureId.None, null, outbox);
            Assert.Equal(["1", "2"], outbox.Select(m => m.To.Value));
        }

        sets = Sets(
            Rebuilt(1, 0, ("1", TableState.Replicating)),
            Rebuilt(2, 0, ("1", TableState.Replicating), ("2", TableState.Preparing)),
            Rebuilt(3, 0, ("2", TableState.Prepared)),
            Rebuilt(4, 0));
        outbox.Clear();
        manager.Tick(sets, CaptureId.None, null, outbox);
        manager.Tick(sets, CaptureId.None, null, outbox);
        Assert.Equal(2, outbox.Count);
        Assert.Equal([S(1), S(2)], outbox[0].Heartbeat!.Spans);
        Assert.Equal([S(2), S(3)], outbox[1].Heartbeat!.Spans);
    }

    [Fact(DisplayName = "Tick: the draining capture's heartbeat says IsStopping; the barrier is forwarded; roles of unknown captures are not sent")]
    public void Tick_DrainingTargetAndBarrier()
    {
        var manager = NewManager(config: new SchedulerConfig { HeartbeatTicks = 1 });
        Update(manager, "b", "a");
        var barrier = new Barrier { GlobalBarrierTs = new Ts(42) };
        var sets = Sets(Rebuilt(1, 0, ("gone", TableState.Replicating)), Rebuilt(2, 0, ("b", TableState.Replicating)));
        var outbox = new List<Message>();

        manager.Tick(sets, "b", barrier, outbox);

        Assert.Equal(["a", "b"], outbox.Select(m => m.To.Value));
        Assert.False(outbox[0].Heartbeat!.IsStopping);
        Assert.True(outbox[1].Heartbeat!.IsStopping);
        Assert.All(outbox, m => Assert.Same(barrier, m.Heartbeat!.Barrier));
        Assert.Empty(outbox[0].Heartbeat!.Spans);
        Assert.Equal([S(2)], outbox[1].Heartbeat!.Spans);
        Assert.All(outbox, m => Assert.True(m.IsWellFormed));
    }

    // §10.5 #5 (TestCaptureManagerCollectStatsTick)
    [Fact(DisplayName = "Tick: heartbeat 2, collect-stats 3 → heartbeats at 2, 4, 6, 8 asking for stats at 4 and 6")]
    public void Tick_CollectStatsPiggybacksOnTheNextHeartbeat()
    {
        var manager = NewManager(config: new SchedulerConfig { HeartbeatTicks = 2, CollectStatsTicks = 3 });
        Update(manager, "1");
        var sets = new SpanMap<ReplicationSet>();
        var seen = new List<(int Tick, bool CollectStats)>();
        for (int tick = 1; tick <= 8; tick++)
        {
            var outbox = new List<Message>();
            manager.Tick(sets, CaptureId.None, null, outbox);
            seen.AddRange(outbox.Select(m => (tick, m.Heartbeat!.CollectStats)));
        }

        Assert.Equal([(2, false), (4, true), (6, true), (8, false)], seen);
    }

    [Fact(DisplayName = "Tick: a capture whose spans did not change gets the same span list again; a change gives a new, correct list")]
    public void Tick_UnchangedSpans_ReuseTheList_ChangedSpansGetANewOne()
    {
        var manager = NewManager(config: new SchedulerConfig { HeartbeatTicks = 1 });
        Update(manager, "1", "2");
        var sets = Sets(
            Rebuilt(1, 0, ("1", TableState.Replicating)),
            Rebuilt(2, 0, ("2", TableState.Replicating)),
            Rebuilt(3, 0, ("1", TableState.Replicating)));
        var first = new List<Message>();
        manager.Tick(sets, CaptureId.None, null, first);

        var second = new List<Message>();
        manager.Tick(sets, CaptureId.None, null, second);
        Assert.Same(first[0].Heartbeat!.Spans, second[0].Heartbeat!.Spans);
        Assert.Same(first[1].Heartbeat!.Spans, second[1].Heartbeat!.Spans);

        sets.Remove(S(3)); // capture 1 loses its last span: a shorter list
        sets.Set(S(4), Rebuilt(4, 0, ("2", TableState.Preparing))); // capture 2 gains one: a longer list
        var third = new List<Message>();
        manager.Tick(sets, CaptureId.None, null, third);
        Assert.Equal([S(1)], third[0].Heartbeat!.Spans);
        Assert.Equal([S(2), S(4)], third[1].Heartbeat!.Spans);
        Assert.Equal([S(1), S(3)], first[0].Heartbeat!.Spans); // lists handed out never change

        sets.Set(S(0), Rebuilt(0, 0, ("1", TableState.Replicating))); // a span before the others
        var fourth = new List<Message>();
        manager.Tick(sets, CaptureId.None, null, fourth);
        Assert.Equal([S(0), S(1)], fourth[0].Heartbeat!.Spans);
        Assert.Same(third[1].Heartbeat!.Spans, fourth[1].Heartbeat!.Spans);
    }

    [Fact(DisplayName = "Tick with 131,072 sets on 8 captures, spans unchanged: the heartbeats allocate nothing per span")]
    public void Tick_LargeCluster_Unchanged_AllocatesNothingPerSpan()
    {
        const int tables = 131_072;
        var ids = Enumerable.Range(0, 8).Select(i => $"capture-{i}").ToArray();
        var sets = Replicating(Enumerable.Range(1, tables).Select(t => ((long)t, ids[t % ids.Length])).ToArray());
        var manager = Captures("owner", new SchedulerConfig { HeartbeatTicks = 1 }, ids.Select(id => (id, CaptureState.Initialized)).ToArray());
        var outbox = new List<Message>(16);
        manager.Tick(sets, CaptureId.None, null, outbox); // builds the lists once
        outbox.Clear();

        long before = GC.GetAllocatedBytesForCurrentThread();
        manager.Tick(sets, CaptureId.None, null, outbox);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(tables, outbox.Sum(m => m.Heartbeat!.Spans.Count));
        Assert.True(allocated < 16 * 1024, $"allocated {allocated} bytes for {tables} spans");
    }

    [Fact(DisplayName = "Alive update: the same membership again changes nothing; another id set is applied")]
    public void AliveUpdate_SameMembership_NoChange_OtherMembership_Applied()
    {
        var manager = NewManager();
        var outbox = new List<Message>();
        manager.HandleAliveCaptureUpdate(Alive("a", "b"), outbox);
        Assert.Equal(2, outbox.Count);

        outbox.Clear();
        manager.HandleAliveCaptureUpdate(Alive("a", "b"), outbox); // equal content, another dictionary
        manager.HandleAliveCaptureUpdate(Alive("b", "a"), outbox); // same ids, other order
        Assert.Empty(outbox);
        Assert.Equal(["a", "b"], manager.Captures.Keys.Select(id => id.Value));

        manager.HandleAliveCaptureUpdate(Alive("a", "c"), outbox); // same count, another id
        Assert.Equal(["c"], outbox.Select(m => m.To.Value));
        Assert.Equal(["a", "c"], manager.Captures.Keys.Select(id => id.Value));
    }

    [Fact(DisplayName = "Tick with 131,072 sets on 8 captures: allocation is per capture list, not per span beyond list storage")]
    public void Tick_LargeCluster_AllocatesOnlyListsPerCapture()
    {
        const int tables = 131_072;
        var ids = Enumerable.Range(0, 8).Select(i => $"capture-{i}").ToArray();
        var sets = Replicating(Enumerable.Range(1, tables).Select(t => ((long)t, ids[t % ids.Length])).ToArray());
        var manager = Captures("owner", new SchedulerConfig { HeartbeatTicks = 1 }, ids.Select(id => (id, CaptureState.Initialized)).ToArray());
        var outbox = new List<Message>(16);
        manager.Tick(sets, CaptureId.None, null, outbox); // warm-up (sorts the map once)
        outbox.Clear();

        long before = GC.GetAllocatedBytesForCurrentThread();
        manager.Tick(sets, CaptureId.None, null, outbox);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(8, outbox.Count);
        Assert.Equal(tables, outbox.Sum(m => m.Heartbeat!.Spans.Count));
        long spanStorage = (long)tables * System.Runtime.CompilerServices.Unsafe.SizeOf<Span>();
        Assert.True(allocated < spanStorage + 64 * 1024, $"allocated {allocated} bytes for {spanStorage} bytes of spans");
    }
}
