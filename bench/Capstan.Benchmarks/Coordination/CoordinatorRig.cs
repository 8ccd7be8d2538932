namespace Capstan.Benchmarks.Coordination;

using System.Globalization;
using Capstan.Core.Coordination;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;

/// <summary>
/// A fully wired <see cref="Coordinator"/> owned by capture "0", with captures "0", "1", … alive
/// and tables 10000, 10001, … current (TiCDC's benchmark layout: table i on capture i mod n).
/// States are reached only through <see cref="Coordinator.Tick"/> with agent messages, as a host
/// would; nothing private is touched.
/// </summary>
/// <remarks>
/// Spans are whole-table spans (<see cref="TableSpans.WholeTable"/>), not TiCDC's keyless
/// <c>{TableID}</c> spans: the coordinator's checkpoint walk checks that each current table's
/// key range is covered, so keyless spans would make every poll stop at the first table with
/// "cannot proceed" (measuring nothing). Whole-table keys make every poll do the full work.
/// </remarks>
public sealed class CoordinatorRig
{
    /// <summary>The owner term used by the rig's messages.</summary>
    public static readonly OwnerRevision Revision = new(1);

    /// <summary>The owner capture.</summary>
    public static readonly CaptureId Owner = "0";

    /// <summary>The first table id (as in TiCDC's benchmarks).</summary>
    public const long FirstTable = 10_000;

    private const string Version = "bench";

    private readonly TableId[] _tables;
    private readonly Dictionary<CaptureId, CaptureInfo> _alive = [];

    /// <summary>Creates the coordinator; nothing is known to it until the first tick.</summary>
    public CoordinatorRig(int tableCount, int captureCount, SchedulerConfig config)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tableCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(captureCount, 1);
        Captures = new CaptureId[captureCount];
        for (int index = 0; index < captureCount; index++)
        {
            var id = new CaptureId(index.ToString(CultureInfo.InvariantCulture));
            Captures[index] = id;
            _alive[id] = new CaptureInfo(id, $"127.0.0.1:{8300 + index}", Version);
        }

        _tables = new TableId[tableCount];
        for (int index = 0; index < tableCount; index++)
        {
            _tables[index] = new TableId(FirstTable + index);
        }

        Coordinator = new Coordinator(new CoordinatorOptions
        {
            Self = Owner,
            Changefeed = "bench",
            OwnerRevision = Revision,
            Version = Version,
            Config = config,
        });
    }

    /// <summary>The coordinator under test.</summary>
    public Coordinator Coordinator { get; }

    /// <summary>The alive captures, "0", "1", ….</summary>
    public CaptureId[] Captures { get; }

    /// <summary>The current tables (one list instance, never mutated: the coordinator may take it as unchanged by reference).</summary>
    public IReadOnlyList<TableId> Tables => _tables;

    /// <summary>A scheduler configuration with heartbeats and periodic balance effectively off.</summary>
    public static SchedulerConfig Quiet(int heartbeatTicks = int.MaxValue) => new()
    {
        HeartbeatTicks = heartbeatTicks,
        CollectStatsTicks = int.MaxValue,
        CheckBalanceIntervalTicks = int.MaxValue,
    };

    /// <summary>The input of one tick with the given inbox (build once, tick many times).</summary>
    public TickInput Input(IReadOnlyList<Message> inbox) => new()
    {
        CheckpointTs = new Ts(1),
        CurrentTables = _tables,
        AliveCaptures = _alive,
        Inbox = inbox,
        Barrier = Barrier.None,
    };

    /// <summary>Runs one tick; throws if it failed (a benchmark must not measure a broken coordinator).</summary>
    public TickResult Tick(TickInput input)
    {
        var result = Coordinator.Tick(input);
        if (result.Error is not null)
        {
            throw new InvalidOperationException("benchmark coordinator tick failed", result.Error);
        }

        return result;
    }

    /// <summary>Tick 1 (captures discovered, initial heartbeats) and tick 2 (every capture answers with <paramref name="responses"/>).</summary>
    public void Initialise(IReadOnlyList<Message> responses)
    {
        Tick(Input([]));
        Tick(Input(responses));
        if (!Coordinator.IsInitialized)
        {
            throw new InvalidOperationException("benchmark coordinator did not initialise");
        }
    }

    /// <summary>One heartbeat response per capture listing no table.</summary>
    public Message[] EmptyResponses()
    {
        var responses = new Message[Captures.Length];
        for (int index = 0; index < Captures.Length; index++)
        {
            responses[index] = Response(Captures[index], []);
        }

        return responses;
    }

    /// <summary>One heartbeat response per capture, listing its tables (table i on capture i mod n) as Replicating at ts 1.</summary>
    public Message[] ReplicatingResponses()
    {
        var perCapture = new List<TableStatus>[Captures.Length];
        for (int index = 0; index < perCapture.Length; index++)
        {
            perCapture[index] = new List<TableStatus>((_tables.Length / Captures.Length) + 1);
        }

        var checkpoint = new Checkpoint(new Ts(1), new Ts(1), Ts.Zero);
        for (int index = 0; index < _tables.Length; index++)
        {
            var status = new TableStatus(TableSpans.WholeTable(_tables[index]), TableState.Replicating, checkpoint);
            perCapture[index % Captures.Length].Add(status);
        }

        var responses = new Message[Captures.Length];
        for (int index = 0; index < Captures.Length; index++)
        {
            responses[index] = Response(Captures[index], perCapture[index].ToArray());
        }

        return responses;
    }

    /// <summary>A heartbeat response from <paramref name="from"/> to the owner, in the owner's term.</summary>
    public static Message Response(CaptureId from, TableStatus[] statuses) => new()
    {
        Type = MessageType.HeartbeatResponse,
        From = from,
        To = Owner,
        Header = new Header(Version, Revision, new ProcessorEpoch("epoch-" + from.Value), default),
        HeartbeatResponse = new HeartbeatResponse { Tables = statuses, Liveness = Liveness.Alive },
    };
}
