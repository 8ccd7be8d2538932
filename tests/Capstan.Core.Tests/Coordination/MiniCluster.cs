namespace Capstan.Core.Tests.Coordination;

using Capstan.Core.Agent;
using Capstan.Core.Coordination;
using Capstan.Core.Keyspan;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Spans;
using AgentNode = Capstan.Core.Agent.Agent;

/// <summary>
/// A whole changefeed on one thread: a coordinator and one real agent per capture, each agent
/// driving a <see cref="WorkloadExecutor"/>. A <see cref="Step"/> ticks the coordinator with what
/// the agents sent on the previous step, delivers its messages, then ticks every alive agent.
/// Only the edges are fake: membership (<see cref="Kill"/>), the executors and the clock.
/// Safety is checked after every step: no failed tick, replication-set and agent invariants,
/// the checkpoint never regresses, and at most one capture replicates a span.
/// </summary>
internal sealed class MiniCluster
{
    private readonly SortedDictionary<CaptureId, Node> _nodes = [];
    private readonly List<Message> _toOwner = [];
    private IReadOnlyList<TableId> _tables = [];
    private long _ownerRevision = 1;
    private SchedulerConfig _config;

    public MiniCluster(SchedulerConfig config, string owner, IEnumerable<string> captures, IRegionSource? regionSource = null)
    {
        _config = config;
        RegionSource = regionSource;
        foreach (var id in captures)
        {
            _nodes[id] = new Node(id, new WorkloadExecutor(span => WriteRate(span)));
        }

        Coordinator = NewCoordinator(owner);
    }

    /// <summary>The settings of the current coordinator.</summary>
    public SchedulerConfig Config => _config;

    public IRegionSource? RegionSource { get; }

    public Coordinator Coordinator { get; private set; }

    /// <summary>The write rate each span reports in its stats (keys/s); 0 unless set.</summary>
    public Func<Span, ulong> WriteRate { get; set; } = _ => 0;

    /// <summary>The cluster clock: every Replicating span's checkpoint follows it.</summary>
    public Ts Now { get; private set; } = new(100);

    /// <summary>The changefeed checkpoint the owner persisted (the last watermark that could proceed).</summary>
    public Ts Checkpoint { get; private set; } = new(100);

    /// <summary>The last tick's result.</summary>
    public TickResult? LastResult { get; private set; }

    public IReadOnlyCollection<CaptureId> Captures => _nodes.Keys;

    public WorkloadExecutor Executor(CaptureId capture) => _nodes[capture].Executor;

    public AgentNode Agent(CaptureId capture) => _nodes[capture].Agent;

    /// <summary>Replaces the changefeed's tables (a new list, as the coordinator expects).</summary>
    public void SetTables(params long[] tables) => _tables = tables.Select(t => new TableId(t)).ToArray();

    /// <summary>The capture leaves membership at once: its agent stops, messages to it are lost.</summary>
    public void Kill(CaptureId capture) => _nodes.Remove(capture);

    /// <summary>
    /// Owner fail-over: a brand-new coordinator on <paramref name="newOwner"/> with the next owner
    /// revision (and optionally other settings); it learns everything from the agents' heartbeat responses.
    /// </summary>
    public void FailOver(CaptureId newOwner, SchedulerConfig? config = null)
    {
        _ownerRevision++;
        _config = config ?? _config;
        Coordinator = NewCoordinator(newOwner);
    }

    /// <summary>The messages the agents sent since the last step are lost (e.g. with an owner that crashed before reading them).</summary>
    public void LoseMessagesToOwner() => _toOwner.Clear();

    /// <summary>One step of the whole cluster; returns the coordinator's result.</summary>
    public TickResult Step()
    {
        Now = new Ts(Now.Value + 1);
        foreach (var node in _nodes.Values)
        {
            node.Executor.Advance(Now);
        }

        var alive = _nodes.Keys.ToDictionary(id => id, id => new CaptureInfo(id, $"{id}:8300", "1.0.0"));
        var inbox = _toOwner.ToList();
        _toOwner.Clear();
        var result = Coordinator.Tick(new TickInput
        {
            CheckpointTs = Checkpoint,
            CurrentTables = _tables,
            AliveCaptures = alive,
            Inbox = inbox,
            Barrier = new Barrier { GlobalBarrierTs = Ts.Max },
        });
        LastResult = result;
        CheckSafety(result);
        Deliver(result.Outbox);
        return result;
    }

    /// <summary>Runs <paramref name="steps"/> steps, calling <paramref name="afterEach"/> after each.</summary>
    public void Run(int steps, Action<TickResult>? afterEach = null)
    {
        for (int i = 0; i < steps; i++)
        {
            var result = Step();
            afterEach?.Invoke(result);
        }
    }

    /// <summary>Steps until every current span is Replicating and no task runs (at most <paramref name="limit"/> steps).</summary>
    public void Settle(int limit = 200)
    {
        for (int i = 0; i < limit; i++)
        {
            Step();
            if (IsSettled())
            {
                return;
            }
        }

        throw new InvalidOperationException($"cluster did not settle within {limit} steps: {Describe()}");
    }

    public bool IsSettled()
    {
        if (!Coordinator.IsInitialized || Coordinator.RunningTasks.Count != 0 || Coordinator.ReplicationSets.Count == 0)
        {
            return false;
        }

        foreach (var entry in Coordinator.ReplicationSets.Ordered())
        {
            if (entry.Value.State != ReplicationSetState.Replicating)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Primary of every set, in span order.</summary>
    public List<(Span Span, CaptureId Primary)> Placement()
    {
        var placement = new List<(Span, CaptureId)>();
        foreach (var entry in Coordinator.ReplicationSets.Ordered())
        {
            placement.Add((entry.Key, entry.Value.Primary));
        }

        return placement;
    }

    public string Describe() =>
        $"tick {Coordinator.TickCount}, checkpoint {Checkpoint}: " + string.Join("; ", Coordinator.ReplicationSets.Ordered().ToArray().Select(e => e.Value.ToString()));

    private Coordinator NewCoordinator(CaptureId owner) => new(new CoordinatorOptions
    {
        Self = owner,
        Changefeed = "cf",
        OwnerRevision = new OwnerRevision(_ownerRevision),
        Version = "1.0.0",
        Config = _config,
        RegionSource = RegionSource,
    });

    private void Deliver(IReadOnlyList<Message> outbox)
    {
        foreach (var (id, node) in _nodes)
        {
            var inbox = outbox.Where(message => message.To == id).ToList();
            var sent = new List<Message>();
            node.Agent.Tick(inbox, sent);
            node.Agent.AssertInvariants();
            _toOwner.AddRange(sent);
        }
    }

    private void CheckSafety(TickResult result)
    {
        Assert.True(result.Error is null, $"tick failed: {result.Error}");
        if (result.Watermark.CanProceed)
        {
            Assert.True(result.Watermark.CheckpointTs >= Checkpoint,
                $"checkpoint regressed from {Checkpoint} to {result.Watermark.CheckpointTs}: {Describe()}");
            Checkpoint = Ts.MaxOf(Checkpoint, result.Watermark.CheckpointTs);
        }

        foreach (var entry in Coordinator.ReplicationSets.Ordered())
        {
            entry.Value.AssertInvariants();
        }

        var writers = new Dictionary<Span, CaptureId>();
        foreach (var (id, node) in _nodes)
        {
            foreach (var span in node.Executor.ReplicatingSpans)
            {
                Assert.False(writers.TryGetValue(span, out var other), $"{span} replicated by both '{other}' and '{id}'");
                writers[span] = id;
            }
        }
    }

    private sealed class Node
    {
        public Node(CaptureId id, WorkloadExecutor executor)
        {
            Executor = executor;
            var identity = new AgentIdentity(id, "cf", new ProcessorEpoch($"epoch-{id}"), default, "1.0.0");
            Agent = new AgentNode(identity, executor, new LivenessFlag());
        }

        public WorkloadExecutor Executor { get; }

        public AgentNode Agent { get; }
    }
}
