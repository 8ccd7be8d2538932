namespace Capstan.Api.Activity;

using Capstan.Api.Contracts;

/// <summary>A bounded, thread-safe ring of timeline events with increasing sequence numbers.</summary>
internal sealed class EventLog(int capacity)
{
    private readonly Lock _gate = new();
    private readonly EventDto?[] _ring = new EventDto?[capacity];
    private long _next = 1;

    public void Add(string time, string kind, string changefeed, long table, string capture, string message)
    {
        lock (_gate)
        {
            long sequence = _next++;
            _ring[sequence % _ring.Length] = new EventDto(sequence, time, kind, changefeed, table, capture, message);
        }
    }

    public EventsDto Since(long since, int limit)
    {
        lock (_gate)
        {
            long last = _next - 1;
            long first = Math.Max(Math.Max(since + 1, _next - _ring.Length), 1);
            first = Math.Max(first, _next - Math.Max(limit, 0));
            var events = new List<EventDto>();
            for (long sequence = first; sequence <= last; sequence++)
            {
                events.Add(_ring[sequence % _ring.Length]!);
            }

            return new EventsDto(events, last);
        }
    }

    public List<EventDto> ForTable(string changefeed, long table)
    {
        lock (_gate)
        {
            var events = new List<EventDto>();
            for (long sequence = Math.Max(1, _next - _ring.Length); sequence < _next; sequence++)
            {
                var entry = _ring[sequence % _ring.Length]!;
                if (entry.TableId == table && entry.Changefeed == changefeed)
                {
                    events.Add(entry);
                }
            }

            return events;
        }
    }
}
