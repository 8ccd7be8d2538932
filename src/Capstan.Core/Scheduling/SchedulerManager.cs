namespace Capstan.Core.Scheduling;

using System.Runtime.InteropServices;
using Capstan.Core.Model;
using Capstan.Core.Spans;

/// <summary>
/// Runs the five schedulers in priority order — basic, drain capture, move table, rebalance,
/// balance — and returns the first non-empty output (spec §6.1). Every scheduler but basic is
/// gated: when the replication manager already runs <see cref="SchedulerConfig.MaxTaskConcurrency"/>
/// tasks, nothing below basic runs this tick. Basic is never gated: it does the critical work
/// (initial dispatch, DDL, re-adding a lost capture's spans).
/// </summary>
public sealed class SchedulerManager
{
    private readonly int _maxTaskConcurrency;
    private readonly DrainCaptureScheduler _drain;
    private readonly MoveTableScheduler _moveTable;
    private readonly RebalanceScheduler _rebalance;
    private readonly IScheduler[] _schedulers;
    private readonly Dictionary<(string Scheduler, string Task), long> _taskCounts = [];

    /// <summary>One scheduler's output, before it is handed on; reused.</summary>
    private readonly List<ScheduleTask> _scratch = [];

    /// <summary>
    /// Creates the manager for the coordinator on <paramref name="ownerId"/>. <paramref name="random"/>
    /// drives victim sampling and tie-breaking of balance and rebalance; null means none (sorted
    /// victims, zero tie bits), as tests use.
    /// </summary>
    public SchedulerManager(CaptureId ownerId, SchedulerConfig config, IDeterministicRandom? random)
    {
        ArgumentNullException.ThrowIfNull(config);
        _maxTaskConcurrency = config.MaxTaskConcurrency;
        _drain = new DrainCaptureScheduler(ownerId, config);
        _moveTable = new MoveTableScheduler();
        var cooldown = new MoveCooldown(config.MoveCooldownTicks);
        _rebalance = new RebalanceScheduler(config, random, cooldown);
        _schedulers = [new BasicScheduler(config), _drain, _moveTable, _rebalance, new BalanceScheduler(config, random, cooldown)];
    }

    /// <summary>The schedulers in priority order.</summary>
    public IReadOnlyList<IScheduler> Schedulers => _schedulers;

    /// <summary>The capture being drained, or <see cref="CaptureId.None"/>.</summary>
    public CaptureId DrainingTarget => _drain.Target;

    /// <summary>Tasks produced so far, per (scheduler name, task kind); cumulative, for metrics.</summary>
    public IReadOnlyDictionary<(string Scheduler, string Task), long> TaskCounts => _taskCounts;

    /// <summary>Appends this tick's tasks (those of the first scheduler that has any) to <paramref name="output"/>.</summary>
    public void Schedule(SchedulingContext context, List<ScheduleTask> output)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(output);
        for (int i = 0; i < _schedulers.Length; i++)
        {
            if (i > 0 && context.RunningTaskCount >= _maxTaskConcurrency)
            {
                return;
            }

            var scheduler = _schedulers[i];
            _scratch.Clear();
            scheduler.Schedule(context, _scratch);
            if (_scratch.Count == 0)
            {
                continue;
            }

            foreach (var task in _scratch)
            {
                var named = task.Scheduler.Length == 0 ? task with { Scheduler = scheduler.Name } : task;
                CollectionsMarshal.GetValueRefOrAddDefault(_taskCounts, (scheduler.Name, named.Kind), out _)++;
                output.Add(named);
            }

            _scratch.Clear();
            return;
        }
    }

    /// <summary>Queues a manual move; false when a manual move of that span is already pending.</summary>
    public bool MoveTable(Span span, CaptureId target) => _moveTable.AddTask(span, target);

    /// <summary>Requests a manual rebalance.</summary>
    public void Rebalance() => _rebalance.Trigger();

    /// <summary>Ends the drain of <paramref name="capture"/>, if it is the target (it left or restarted).</summary>
    public void ForgetDrainTarget(CaptureId capture) => _drain.Forget(capture);

    /// <summary>Starts draining <paramref name="target"/>; false when another target is being drained.</summary>
    public bool DrainCapture(CaptureId target) => _drain.SetTarget(target);

    /// <summary>What a manual rebalance would move now, in the configured balance mode (no randomness; changes nothing).</summary>
    public IReadOnlyList<MoveTableTask> PlanRebalance(SchedulingContext context) => _rebalance.Plan(context);
}
