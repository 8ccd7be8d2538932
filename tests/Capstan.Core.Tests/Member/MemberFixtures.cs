namespace Capstan.Core.Tests.Member;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;

/// <summary>
/// Builds captures and replication sets for member and scheduler tests by feeding inputs:
/// alive-capture updates and heartbeat responses into a real <see cref="CaptureManager"/>, and
/// agents' statuses into the <see cref="ReplicationSet"/> rebuild constructor.
/// </summary>
internal static class MemberFixtures
{
    public static readonly OwnerRevision Revision = new(1);

    public static Span S(long table) => new(table);

    public static Dictionary<CaptureId, CaptureInfo> Alive(params string[] ids) =>
        ids.ToDictionary(id => new CaptureId(id), id => new CaptureInfo(id, $"{id}:8300", "7.5.0"));

    public static TableStatus Status(long table, TableState state, ulong checkpointTs = 0) =>
        new(S(table), state, Checkpoint.At(checkpointTs));

    public static Message Response(string from, string epoch, Liveness liveness = Liveness.Alive, params TableStatus[] tables) => new()
    {
        Type = MessageType.HeartbeatResponse,
        From = from,
        To = "owner",
        Header = new Header("7.5.0", Revision, new ProcessorEpoch(epoch), new ChangefeedEpoch(1)),
        HeartbeatResponse = new HeartbeatResponse { Tables = tables, Liveness = liveness },
    };

    /// <summary>The epoch a fixture capture's first incarnation uses.</summary>
    public static string EpochOf(string id) => "epoch-" + id;

    /// <summary>
    /// An initialised capture manager with captures in the given states: Uninitialized ones never
    /// answered, Initialized ones answered Alive, Stopping ones answered Stopping.
    /// </summary>
    public static CaptureManager Captures(string owner, params (string Id, CaptureState State)[] captures) =>
        Captures(owner, new SchedulerConfig(), captures);

    public static CaptureManager Captures(string owner, SchedulerConfig config, params (string Id, CaptureState State)[] captures)
    {
        var manager = new CaptureManager(owner, Revision, config);
        var alive = Alive(captures.Select(c => c.Id).ToArray());
        var outbox = new List<Message>();
        manager.HandleAliveCaptureUpdate(alive, outbox);
        var responses = captures
            .Where(c => c.State != CaptureState.Uninitialized)
            .Select(c => Response(c.Id, EpochOf(c.Id), c.State == CaptureState.Stopping ? Liveness.Stopping : Liveness.Alive))
            .ToList();
        manager.HandleMessages(responses);
        manager.HandleAliveCaptureUpdate(alive, outbox);
        foreach (var (id, state) in captures)
        {
            Assert.Equal(state, manager.Captures[id].State);
        }

        return manager;
    }

    /// <summary>Shorthand: every listed capture Initialized.</summary>
    public static CaptureManager Initialized(params string[] ids) =>
        Captures("owner", ids.Select(id => (id, CaptureState.Initialized)).ToArray());

    /// <summary>A set rebuilt from agents' statuses.</summary>
    public static ReplicationSet Rebuilt(long table, ulong checkpointTs, params (string Capture, TableState State)[] statuses) =>
        new(S(table), checkpointTs, statuses.Select(s => KeyValuePair.Create(new CaptureId(s.Capture), Status(table, s.State, checkpointTs))));

    /// <summary>A set in <paramref name="state"/> held by <paramref name="capture"/> (Absent: held by nobody).</summary>
    public static ReplicationSet Set(long table, ReplicationSetState state, string capture = "a")
    {
        var set = state switch
        {
            ReplicationSetState.Absent => Rebuilt(table, 0),
            ReplicationSetState.Prepare => Rebuilt(table, 0, (capture, TableState.Preparing)),
            ReplicationSetState.Commit => Rebuilt(table, 0, (capture, TableState.Prepared)),
            ReplicationSetState.Replicating => Rebuilt(table, 0, (capture, TableState.Replicating)),
            ReplicationSetState.Removing => Rebuilt(table, 0, (capture, TableState.Stopping)),
            _ => throw new ArgumentOutOfRangeException(nameof(state)),
        };
        Assert.Equal(state, set.State);
        return set;
    }

    public static SpanMap<ReplicationSet> Sets(params ReplicationSet[] sets)
    {
        var map = new SpanMap<ReplicationSet>();
        foreach (var set in sets)
        {
            map.Set(set.Span, set);
        }

        return map;
    }

    /// <summary>Replicating sets: each table on the capture given for it.</summary>
    public static SpanMap<ReplicationSet> Replicating(params (long Table, string Capture)[] placement) =>
        Sets(placement.Select(p => Set(p.Table, ReplicationSetState.Replicating, p.Capture)).ToArray());

    public static SchedulingContext Context(
        CaptureManager captures,
        SpanMap<ReplicationSet> sets,
        IEnumerable<long>? currentTables = null,
        ulong checkpointTs = 0,
        int runningTasks = 0,
        long tick = 0) => Context(captures.Captures, sets, currentTables, checkpointTs, runningTasks, tick);

    public static SchedulingContext Context(
        IReadOnlyDictionary<CaptureId, CaptureStatus> captures,
        SpanMap<ReplicationSet> sets,
        IEnumerable<long>? currentTables = null,
        ulong checkpointTs = 0,
        int runningTasks = 0,
        long tick = 0) => new()
        {
            CheckpointTs = checkpointTs,
            CurrentSpans = (currentTables ?? []).Select(S).ToList(),
            Captures = captures,
            ReplicationSets = sets,
            RunningTaskCount = runningTasks,
            Tick = tick,
        };

    public static readonly IReadOnlyDictionary<CaptureId, CaptureStatus> NoCaptures = new Dictionary<CaptureId, CaptureStatus>();
}
