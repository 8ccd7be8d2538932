namespace Capstan.Core.Tests.Coordination;

using Capstan.Core.Coordination;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Spans;

/// <summary>Drives a coordinator owned by capture "a" (owner revision 1) with hand-made agent messages.</summary>
internal sealed class CoordinatorHarness
{
    public static readonly OwnerRevision Revision = new(1);

    public CoordinatorHarness(SchedulerConfig? config = null, ChangefeedEpoch epoch = default)
    {
        Epoch = epoch;
        Coordinator = new Coordinator(new CoordinatorOptions
        {
            Self = "a",
            Changefeed = "cf",
            OwnerRevision = Revision,
            ChangefeedEpoch = epoch,
            Version = "1.0.0",
            Config = config ?? new SchedulerConfig { HeartbeatTicks = 1_000_000, CheckBalanceIntervalTicks = 1_000_000 },
        });
    }

    public Coordinator Coordinator { get; }

    public ChangefeedEpoch Epoch { get; }

    public List<TableId> Tables { get; } = [];

    public Dictionary<CaptureId, CaptureInfo> Alive { get; } = [];

    public Ts CheckpointTs { get; set; } = new(1);

    public Ts GlobalBarrierTs { get; set; } = Ts.Max;

    public void SetAlive(params string[] captures)
    {
        Alive.Clear();
        foreach (var id in captures)
        {
            Alive[id] = new CaptureInfo(id, $"{id}:8300", "1.0.0");
        }
    }

    public TickResult Tick(params Message[] inbox)
    {
        var result = Coordinator.Tick(new TickInput
        {
            CheckpointTs = CheckpointTs,
            CurrentTables = Tables.ToList(),
            AliveCaptures = new Dictionary<CaptureId, CaptureInfo>(Alive),
            Inbox = inbox,
            Barrier = new Barrier { GlobalBarrierTs = GlobalBarrierTs },
        });
        Assert.True(result.Error is null, $"tick failed: {result.Error}");
        return result;
    }

    /// <summary>A heartbeat response from <paramref name="from"/> with the given statuses.</summary>
    public Message Response(string from, params TableStatus[] statuses) => Response(from, "epoch-" + from, statuses);

    public Message Response(string from, string processorEpoch, params TableStatus[] statuses) => new()
    {
        Type = MessageType.HeartbeatResponse,
        From = from,
        To = "a",
        Header = new Header("1.0.0", Revision, new ProcessorEpoch(processorEpoch), Epoch),
        HeartbeatResponse = new HeartbeatResponse { Tables = statuses, Liveness = Liveness.Alive },
    };

    public static TableStatus Status(long table, TableState state, ulong checkpoint = 1, ulong resolved = 1, ulong lastSynced = 0) =>
        new(TableSpans.WholeTable(table), state, new Checkpoint(checkpoint, resolved, lastSynced));

    public static TableStatus Replicating(long table, ulong checkpoint = 1, ulong resolved = 1) =>
        Status(table, TableState.Replicating, checkpoint, resolved);

    /// <summary>Makes every alive capture known and initialised with the given reports (tick 1: discovery, tick 2: answers).</summary>
    public TickResult Initialise(IReadOnlyDictionary<string, TableStatus[]> reports)
    {
        Tick();
        return Tick(reports.Select(pair => Response(pair.Key, pair.Value)).ToArray());
    }

    public ReplicationSet Set(long table) =>
        Coordinator.ReplicationSets.TryGetValue(TableSpans.WholeTable(table), out var set) ? set : throw new KeyNotFoundException($"no set for table {table}");
}
