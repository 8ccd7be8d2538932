namespace Capstan.Core.Scheduling;

using Capstan.Core.Replication;
using Capstan.Core.Spans;

/// <summary>
/// The hysteresis of load-aware balance: the tick of each span's last balance move, so that a span
/// does not move again within <see cref="CooldownTicks"/> ticks. Shared by the periodic balance and
/// the manual rebalance of one coordinator.
/// </summary>
/// <remarks>
/// A move starts its cool-down when the replication manager accepts it (the task's
/// <see cref="ScheduleTask.Accept"/>), not when it is planned: a move the manager skipped did not
/// happen. Entries are dropped once they expire or their span has no replication set any more,
/// so the map only ever holds the spans moved in the last <see cref="CooldownTicks"/> ticks.
/// </remarks>
public sealed class MoveCooldown
{
    /// <summary>Span → tick of its last accepted balance move.</summary>
    private readonly Dictionary<Span, long> _lastMoveTicks = [];

    /// <summary>Creates an empty log; <paramref name="cooldownTicks"/> 0 disables the cool-down.</summary>
    public MoveCooldown(int cooldownTicks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cooldownTicks);
        CooldownTicks = cooldownTicks;
    }

    /// <summary>A span moved at tick t may move again from tick t + CooldownTicks.</summary>
    public int CooldownTicks { get; }

    /// <summary>Spans remembered (moved recently, not yet pruned).</summary>
    public int Count => _lastMoveTicks.Count;

    /// <summary>Remembers that <paramref name="span"/> moved at <paramref name="tick"/>.</summary>
    public void Record(Span span, long tick)
    {
        if (CooldownTicks > 0)
        {
            _lastMoveTicks[span] = tick;
        }
    }

    /// <summary>True when <paramref name="span"/> moved less than <see cref="CooldownTicks"/> ticks before <paramref name="tick"/>.</summary>
    public bool IsCoolingDown(Span span, long tick) =>
        _lastMoveTicks.Count != 0 && _lastMoveTicks.TryGetValue(span, out long last) && tick - last < CooldownTicks;

    /// <summary>The tick of the span's last remembered move.</summary>
    public bool TryGetLastMoveTick(Span span, out long tick) => _lastMoveTicks.TryGetValue(span, out tick);

    /// <summary>Forgets expired entries and entries of spans that have no replication set any more.</summary>
    public void Prune(SpanMap<ReplicationSet> sets, long tick)
    {
        ArgumentNullException.ThrowIfNull(sets);
        if (_lastMoveTicks.Count == 0)
        {
            return;
        }

        foreach (var (span, last) in _lastMoveTicks)
        {
            if (tick - last >= CooldownTicks || !sets.ContainsKey(span))
            {
                _lastMoveTicks.Remove(span); // allowed while enumerating a Dictionary
            }
        }
    }

    /// <summary>
    /// Gives each move an <see cref="ScheduleTask.Accept"/> that starts its span's cool-down at
    /// <paramref name="tick"/> (keeping any Accept it already had).
    /// </summary>
    public void RecordOnAccept(List<MoveTableTask> moves, long tick)
    {
        ArgumentNullException.ThrowIfNull(moves);
        for (int i = 0; i < moves.Count; i++)
        {
            var move = moves[i];
            var span = move.Span;
            var previous = move.Accept;
            moves[i] = move with
            {
                Accept = () =>
                {
                    previous?.Invoke();
                    Record(span, tick);
                },
            };
        }
    }
}
