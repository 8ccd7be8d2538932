namespace Capstan.Simulation.Trace;

using System.Globalization;
using System.Text;
using Capstan.Core.Model;
using Capstan.Core.Protocol;

/// <summary>What a trace event records.</summary>
public enum TraceKind
{
    /// <summary>A message was sent; it arrives at <see cref="TraceEvent.Arg"/>.</summary>
    Send,

    /// <summary>A message was sent and lost on the way.</summary>
    Lost,

    /// <summary>A message was delivered twice; the copy arrives at <see cref="TraceEvent.Arg"/>.</summary>
    Duplicate,

    /// <summary>A message was dropped at delivery (partition, receiver down, no coordinator there).</summary>
    Undeliverable,

    /// <summary>An injected fault or its end.</summary>
    Fault,

    /// <summary>Membership, election, lease or checkpoint-store event.</summary>
    Etcd,

    /// <summary>A capture's own action: register, fence, become owner, coordinator failure.</summary>
    Node,

    /// <summary>An operator command and its result.</summary>
    Command,

    /// <summary>A table was created or dropped.</summary>
    Table,

    /// <summary>A phase of the run began or ended.</summary>
    Phase,
}

/// <summary>One line of the trace; messages are formatted only when printed.</summary>
/// <param name="Tick">When.</param>
/// <param name="Kind">What.</param>
/// <param name="Message">The message, for message events.</param>
/// <param name="Text">The description, for other events.</param>
/// <param name="Arg">Arrival tick for sends; otherwise unused.</param>
/// <param name="Table">The table the event is about, or -1.</param>
public readonly record struct TraceEvent(long Tick, TraceKind Kind, Message? Message, string? Text, long Arg, long Table);

/// <summary>
/// The run's trace: a bounded ring of the most recent events (for the readable excerpt printed on
/// a failure) and a running 64-bit hash of every event ever recorded (for the determinism check:
/// the same seed must give the same hash). The hash covers message contents, not only their kinds.
/// </summary>
public sealed class TraceLog
{
    private readonly TraceEvent[] _ring;
    private long _count;
    private ulong _hash = 14695981039346656037UL;
    private readonly long _baseMilliseconds;

    /// <summary>Creates a trace keeping the last <paramref name="capacity"/> events; timestamps print relative to <paramref name="baseMilliseconds"/>.</summary>
    public TraceLog(int capacity, long baseMilliseconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new TraceEvent[capacity];
        _baseMilliseconds = baseMilliseconds;
    }

    /// <summary>Events recorded so far.</summary>
    public long Count => _count;

    /// <summary>The hash of every event recorded so far.</summary>
    public ulong Hash => _hash;

    /// <summary>
    /// Records a message event. Plain heartbeats (owner → agent) are hashed but not kept: they
    /// carry little and would crowd the excerpt.
    /// </summary>
    public void Message(long tick, TraceKind kind, Message message, long arrival)
    {
        Mix(tick);
        Mix((long)kind);
        Mix(arrival);
        MixMessage(message);
        if (message.Type != MessageType.Heartbeat || message.Heartbeat!.IsStopping)
        {
            Add(new TraceEvent(tick, kind, message, null, arrival, -1));
        }
    }

    /// <summary>Records a described event, optionally about one table.</summary>
    public void Note(long tick, TraceKind kind, string text, long table = -1)
    {
        Mix(tick);
        Mix((long)kind);
        Mix(text);
        Mix(table);
        Add(new TraceEvent(tick, kind, null, text, 0, table));
    }

    /// <summary>Folds a value that is not an event (e.g. a checkpoint) into the hash.</summary>
    public void Mix(long value)
    {
        ulong hash = _hash;
        for (int shift = 0; shift < 64; shift += 8)
        {
            hash = (hash ^ (byte)(value >> shift)) * 1099511628211UL;
        }

        _hash = hash;
    }

    /// <summary>
    /// The last <paramref name="lines"/> events, formatted; when <paramref name="table"/> is given,
    /// only events about that table plus every event that is not a message (faults, elections…).
    /// </summary>
    public string Format(int lines, long table = -1)
    {
        var selected = new List<TraceEvent>();
        long available = Math.Min(_count, _ring.Length);
        for (long i = 0; i < available && selected.Count < lines; i++)
        {
            var item = _ring[(_count - 1 - i) % _ring.Length];
            if (table < 0 || Involves(item, table))
            {
                selected.Add(item);
            }
        }

        selected.Reverse();
        var text = new StringBuilder();
        foreach (var item in selected)
        {
            text.Append(FormatEvent(item, table)).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>A checkpoint as milliseconds since the start of the run (0 stays 0).</summary>
    public string FormatTs(Ts ts) => ts.Value == 0 ? "0" : ts == Ts.Max ? "max"
        : string.Create(CultureInfo.InvariantCulture, $"{ts.PhysicalMilliseconds - _baseMilliseconds}ms");

    private void Add(TraceEvent item)
    {
        _ring[_count % _ring.Length] = item;
        _count++;
    }

    private static bool Involves(TraceEvent item, long table)
    {
        if (item.Message is null)
        {
            return item.Table < 0 || item.Table == table;
        }

        return MessageFormat.Mentions(item.Message, table);
    }

    private string FormatEvent(TraceEvent item, long table)
    {
        string when = string.Create(CultureInfo.InvariantCulture, $"t={item.Tick,6} ");
        return item.Kind switch
        {
            TraceKind.Send => when + MessageFormat.Describe(item.Message!, this, table) + $"  (arrives t={item.Arg})",
            TraceKind.Duplicate => when + "DUP " + MessageFormat.Describe(item.Message!, this, table) + $"  (copy arrives t={item.Arg})",
            TraceKind.Lost => when + "LOST " + MessageFormat.Describe(item.Message!, this, table),
            TraceKind.Undeliverable => when + "UNDELIVERABLE " + MessageFormat.Describe(item.Message!, this, table),
            _ => when + item.Kind.ToString().ToUpperInvariant() + " " + item.Text,
        };
    }

    private void Mix(string text)
    {
        ulong hash = _hash;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        _hash = hash;
    }

    private void MixMessage(Message message)
    {
        Mix((long)message.Type);
        Mix(message.From.Value);
        Mix(message.To.Value);
        Mix(message.Header.OwnerRevision.Value);
        Mix(message.Header.ProcessorEpoch.Value);
        switch (message.Type)
        {
            case MessageType.Heartbeat:
                Mix(message.Heartbeat!.Spans.Count);
                Mix(message.Heartbeat.IsStopping ? 1 : 0);
                break;
            case MessageType.HeartbeatResponse:
                MixStatuses(message.HeartbeatResponse!.Tables);
                Mix((long)message.HeartbeatResponse.Liveness);
                break;
            case MessageType.DispatchTableRequest:
                var request = message.DispatchTableRequest!;
                Mix(request.AddTable?.Span.TableId.Value ?? request.RemoveTable!.Span.TableId.Value);
                Mix(request.AddTable is null ? 2 : request.AddTable.IsSecondary ? 1 : 0);
                Mix((long)(request.AddTable?.Checkpoint.CheckpointTs.Value ?? 0));
                break;
            case MessageType.DispatchTableResponse:
                var response = message.DispatchTableResponse!;
                var status = response.AddTable?.Status ?? response.RemoveTable!.Status;
                Mix(response.AddTable is null ? 1 : 0);
                MixStatus(status);
                break;
        }
    }

    private void MixStatuses(IReadOnlyList<TableStatus> statuses)
    {
        Mix(statuses.Count);
        for (int i = 0; i < statuses.Count; i++)
        {
            MixStatus(statuses[i]);
        }
    }

    private void MixStatus(TableStatus status)
    {
        Mix(status.Span.TableId.Value);
        Mix((long)status.State);
        Mix((long)status.Checkpoint.CheckpointTs.Value);
    }
}
