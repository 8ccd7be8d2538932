namespace Capstan.Benchmarks.Scheduling;

using System.Globalization;
using BenchmarkDotNet.Attributes;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;

/// <summary>
/// TiCDC's basic-scheduler benchmarks (spec §11.3): 8 captures that have not answered yet
/// (Uninitialized, which the basic scheduler accepts), batch size 50, one <c>Schedule</c> call
/// per operation.
/// </summary>
/// <remarks>
/// AddTables: N current spans and no set (a 50-span burst add; nothing to remove).
/// RemoveTables: no current span and N sets (a remove for each). TiCDC's sets had a primary but
/// an empty role map, so it skipped every one; such a set cannot be built through the public
/// API (it is inconsistent), so here each set is Replicating on capture i mod 8 and gets a remove.
/// AddRemoveTables: N/2 current spans without sets and N/2 sets of other tables.
/// </remarks>
[MemoryDiagnoser]
public class BasicSchedulerBenchmarks
{
    private static readonly SchedulerConfig Config = new();

    private readonly List<ScheduleTask> _tasks = [];
    private readonly BasicScheduler _scheduler = new(Config);
    private SchedulingContext _add = null!;
    private SchedulingContext _remove = null!;
    private SchedulingContext _addRemove = null!;

    /// <summary>Number of spans.</summary>
    [ParamsSource(nameof(Sizes))]
    public int Tables { get; set; }

    /// <summary>1 … 16,384, doubling (TiCDC's sizes).</summary>
    public static IEnumerable<int> Sizes => BenchmarkSizes.Doubling(16_384);

    /// <summary>Builds the three contexts.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var captures = UninitializedCaptures(8);
        var spans = new Span[Tables];
        for (int index = 0; index < Tables; index++)
        {
            spans[index] = TableSpans.WholeTable(new TableId(10_000 + index));
        }

        _add = Context(spans, new SpanMap<ReplicationSet>(), captures);
        _remove = Context([], SetsOf(spans, captures), captures);
        int half = Tables / 2;
        _addRemove = Context(spans[..half], SetsOf(spans[half..], captures), captures);
    }

    /// <summary>A burst add of 50 spans.</summary>
    [Benchmark]
    public int AddTables() => Schedule(_add);

    /// <summary>A remove for every set.</summary>
    [Benchmark]
    public int RemoveTables() => Schedule(_remove);

    /// <summary>Both at once.</summary>
    [Benchmark]
    public int AddRemoveTables() => Schedule(_addRemove);

    private int Schedule(SchedulingContext context)
    {
        _tasks.Clear();
        _scheduler.Schedule(context, _tasks);
        return _tasks.Count;
    }

    private static SchedulingContext Context(
        IReadOnlyList<Span> current, SpanMap<ReplicationSet> sets, IReadOnlyDictionary<CaptureId, CaptureStatus> captures) => new()
    {
        CheckpointTs = new Ts(1),
        CurrentSpans = current,
        Captures = captures,
        ReplicationSets = sets,
    };

    private static SpanMap<ReplicationSet> SetsOf(Span[] spans, IReadOnlyDictionary<CaptureId, CaptureStatus> captures)
    {
        var ids = captures.Keys.ToArray();
        var sets = new SpanMap<ReplicationSet>();
        var checkpoint = Checkpoint.At(new Ts(1));
        for (int index = 0; index < spans.Length; index++)
        {
            var status = new TableStatus(spans[index], TableState.Replicating, checkpoint);
            var reports = new Dictionary<CaptureId, TableStatus> { [ids[index % ids.Length]] = status };
            sets.Set(spans[index], new ReplicationSet(spans[index], new Ts(1), reports));
        }

        return sets;
    }

    /// <summary>Captures as a fresh capture manager knows them: registered, not answered yet.</summary>
    private static IReadOnlyDictionary<CaptureId, CaptureStatus> UninitializedCaptures(int count)
    {
        var manager = new CaptureManager("0", new OwnerRevision(1), Config);
        var alive = new Dictionary<CaptureId, CaptureInfo>();
        for (int index = 0; index < count; index++)
        {
            var id = new CaptureId(index.ToString(CultureInfo.InvariantCulture));
            alive[id] = new CaptureInfo(id, $"127.0.0.1:{8300 + index}", "bench");
        }

        manager.HandleAliveCaptureUpdate(alive, []);
        return manager.Captures;
    }
}
