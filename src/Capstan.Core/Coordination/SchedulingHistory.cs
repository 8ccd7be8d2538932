namespace Capstan.Core.Coordination;

using Capstan.Core.Model;
using Capstan.Core.Spans;

/// <summary>One scheduling decision the coordinator carried out.</summary>
/// <param name="Tick">Coordinator tick at which the task was accepted.</param>
/// <param name="Scheduler">The scheduler that produced it ("basic-scheduler", "move-table-scheduler", …).</param>
/// <param name="Kind">addTable, removeTable or moveTable.</param>
/// <param name="Span">The span.</param>
/// <param name="Capture">Destination capture (add, move) or the capture it was removed from.</param>
public sealed record SchedulingEvent(long Tick, string Scheduler, string Kind, Span Span, CaptureId Capture);

/// <summary>
/// A bounded record of accepted scheduling tasks, newest last: answers "why is this table
/// here" (which scheduler placed it, and when) without any clock in the core.
/// </summary>
public sealed class SchedulingHistory
{
    private readonly SchedulingEvent?[] _ring;
    private long _written;

    /// <summary>Creates a history keeping the last <paramref name="capacity"/> events.</summary>
    public SchedulingHistory(int capacity)
    {
        if (capacity <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "must be positive");
        }

        _ring = new SchedulingEvent?[capacity];
    }

    /// <summary>Events recorded so far, including those that fell out of the buffer.</summary>
    public long TotalRecorded => _written;

    /// <summary>Appends an event, evicting the oldest when full.</summary>
    public void Record(SchedulingEvent schedulingEvent)
    {
        _ring[_written % _ring.Length] = schedulingEvent;
        _written++;
    }

    /// <summary>The retained events, oldest first, optionally only those of one table.</summary>
    public IReadOnlyList<SchedulingEvent> Snapshot(TableId? table = null)
    {
        var result = new List<SchedulingEvent>();
        long first = Math.Max(0, _written - _ring.Length);
        for (long index = first; index < _written; index++)
        {
            var entry = _ring[index % _ring.Length]!;
            if (table is null || entry.Span.TableId == table.Value)
            {
                result.Add(entry);
            }
        }

        return result;
    }
}
