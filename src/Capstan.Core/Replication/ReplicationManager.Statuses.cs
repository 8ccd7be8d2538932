namespace Capstan.Core.Replication;

using System.Buffers;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;

/// <summary>Feeding heartbeat responses' statuses to the sets.</summary>
public sealed partial class ReplicationManager
{
    /// <summary>Below this many sets, responses are walked one by one.</summary>
    private const int SpanOrderMinSets = 4096;

    /// <summary>Sets fed per chunk of the span-order walk (see <see cref="FeedChunk"/>).</summary>
    private const int FeedChunkSize = 1024;

    /// <summary>Statuses of spans reported more than once in one run of responses (rare: a move in flight); reused.</summary>
    private readonly List<(int Index, int Message, int Position)> _repeatedStatuses = [];

    /// <summary>The status lists of the run of responses being fed, by message index; reused.</summary>
    private RunResponse[] _statusLists = [];

    /// <summary>Tests force one way of feeding statuses (true: span order, false: response by response); null decides by size.</summary>
    internal bool? FeedInSpanOrder { get; set; }

    /// <summary>Sink for the warm-up reads of <see cref="FeedChunk"/>, so that the JIT keeps them.</summary>
    private long _warmth;

    /// <summary>
    /// Feeds the statuses of <paramref name="messages"/>[<paramref name="start"/>,
    /// <paramref name="end"/>) (heartbeat responses) to their sets. Every set sees its own
    /// statuses in message order; sets are independent of one another, so the statuses of
    /// different sets may be fed in any order (requests in the outbox come out in that order).
    /// </summary>
    /// <remarks>
    /// Agents list statuses in span order, so one response is a walk through the span map with a
    /// cursor. When the responses report a large part of many sets (the steady state: every
    /// capture reports every span it holds), walking them one after the other would visit the
    /// sets with a stride of the number of captures, a cache miss per status on a large map; the
    /// statuses are then located first (a pass per response over the map's sorted array alone)
    /// and fed in span order, reading the sets front to back once.
    /// </remarks>
    private void HandleHeartbeatResponses(IReadOnlyList<Message> messages, int start, int end, List<Message> outbox)
    {
        long statuses = 0;
        for (int index = start; index < end; index++)
        {
            statuses += messages[index].HeartbeatResponse!.Tables.Count;
        }

        int sets = Spans.Count;
        bool spanOrder = FeedInSpanOrder ?? (end - start >= 2 && sets >= SpanOrderMinSets && statuses >= sets / 4);
        if (!spanOrder || SlotFormat.For(messages, start, end) is not { } slotFormat)
        {
            for (int index = start; index < end; index++)
            {
                HandleResponseInOrder(messages[index], outbox);
            }

            return;
        }

        HandleResponsesInSpanOrder(messages, start, end, slotFormat, outbox);
    }

    /// <summary>One response, walked in its own (span) order.</summary>
    private void HandleResponseInOrder(Message message, List<Message> outbox)
    {
        var tables = message.HeartbeatResponse!.Tables;
        var cursor = default(SpanMapCursor);
        if (tables is TableStatus[] array)
        {
            for (int position = 0; position < array.Length; position++)
            {
                ref readonly var status = ref array[position];
                if (Spans.TryGetValue(status.Span, ref cursor, out var set))
                {
                    Poll(set, in status, message.From, outbox);
                }
            }

            return;
        }

        for (int position = 0; position < tables.Count; position++)
        {
            var status = tables[position];
            if (Spans.TryGetValue(status.Span, ref cursor, out var set))
            {
                Poll(set, in status, message.From, outbox);
            }
        }
    }

    /// <summary>
    /// Locates every status of the run in the map's sorted array (a slot per set for its first
    /// status, a side list for the rare repeats), then feeds them set by set in span order.
    /// </summary>
    private void HandleResponsesInSpanOrder(IReadOnlyList<Message> messages, int start, int end, SlotFormat format, List<Message> outbox)
    {
        var entries = Spans.Ordered(); // a snapshot: removals while feeding do not change it
        int[] slots = ArrayPool<int>.Shared.Rent(entries.Length);
        if (_statusLists.Length < end)
        {
            _statusLists = new RunResponse[Math.Max(end, _statusLists.Length * 2)];
        }

        try
        {
            Array.Clear(slots, 0, entries.Length);
            for (int message = start; message < end; message++)
            {
                var tables = messages[message].HeartbeatResponse!.Tables;
                _statusLists[message] = new RunResponse(tables, tables as TableStatus[], messages[message].From);
                Locate(entries, tables, message, format.Slot(message - start, 0), slots);
            }

            if (_repeatedStatuses.Count > 1)
            {
                // Added in message order, then position order: sorting by all three keeps each set's order.
                _repeatedStatuses.Sort();
            }

            int repeated = 0;
            for (int chunk = 0; chunk < entries.Length; chunk += FeedChunkSize)
            {
                int chunkEnd = Math.Min(chunk + FeedChunkSize, entries.Length);
                _warmth += WarmChunk(slots, chunk, chunkEnd, start, format);
                repeated = FeedChunk(entries, slots, chunk, chunkEnd, repeated, start, format, outbox);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(slots);
            Array.Clear(_statusLists);
            _repeatedStatuses.Clear();
        }
    }

    /// <summary>Records where each status of one response goes: the slot of its set holds <paramref name="firstSlot"/> + its position.</summary>
    private void Locate(ReadOnlySpan<KeyValuePair<Span, ReplicationSet>> entries, IReadOnlyList<TableStatus> tables, int message, int firstSlot, int[] slots)
    {
        var cursor = default(SpanMapCursor);
        if (tables is TableStatus[] array)
        {
            for (int position = 0; position < array.Length; position++)
            {
                Place(SpanMap<ReplicationSet>.IndexOf(entries, array[position].Span, ref cursor), message, position, firstSlot, slots);
            }

            return;
        }

        for (int position = 0; position < tables.Count; position++)
        {
            Place(SpanMap<ReplicationSet>.IndexOf(entries, tables[position].Span, ref cursor), message, position, firstSlot, slots);
        }
    }

    private void Place(int index, int message, int position, int firstSlot, int[] slots)
    {
        if (index < 0)
        {
            return; // a span without a set: ignored
        }

        if (slots[index] == 0)
        {
            slots[index] = firstSlot + position;
        }
        else
        {
            _repeatedStatuses.Add((index, message, position));
        }
    }

    /// <summary>
    /// Reads the first and last field of every status of a chunk in a tight loop. The statuses
    /// come from as many places as there are responses; loaded here, their cache misses overlap,
    /// where the feeding loop (long, with a poll per status) would wait for them one by one.
    /// </summary>
    private long WarmChunk(int[] slots, int chunk, int chunkEnd, int start, SlotFormat format)
    {
        long warmth = 0;
        for (int index = chunk; index < chunkEnd; index++)
        {
            int slot = slots[index];
            if (slot == 0)
            {
                continue;
            }

            var (message, position) = format.Decode(slot, start);
            if (_statusLists[message].Array is { } array)
            {
                ref readonly var status = ref array[position];
                warmth += status.Span.TableId.Value + (status.Stats is null ? 0 : 1);
            }
        }

        return warmth;
    }

    /// <summary>Feeds the statuses of the sets [<paramref name="chunk"/>, <paramref name="chunkEnd"/>); returns the next repeat to feed.</summary>
    private int FeedChunk(
        ReadOnlySpan<KeyValuePair<Span, ReplicationSet>> entries,
        int[] slots,
        int chunk,
        int chunkEnd,
        int repeated,
        int start,
        SlotFormat format,
        List<Message> outbox)
    {
        for (int index = chunk; index < chunkEnd; index++)
        {
            int slot = slots[index];
            if (slot == 0)
            {
                continue;
            }

            var set = entries[index].Value;
            var (message, position) = format.Decode(slot, start);
            Feed(set, message, position, outbox);
            while (repeated < _repeatedStatuses.Count && _repeatedStatuses[repeated].Index == index)
            {
                var repeat = _repeatedStatuses[repeated++];
                Feed(set, repeat.Message, repeat.Position, outbox);
            }
        }

        return repeated;
    }

    private void Feed(ReplicationSet set, int message, int position, List<Message> outbox)
    {
        ref readonly var response = ref _statusLists[message];
        if (response.Array is { } array)
        {
            Poll(set, in array[position], response.From, outbox);
        }
        else
        {
            var status = response.List[position];
            Poll(set, in status, response.From, outbox);
        }
    }

    /// <summary>One response of the run being fed: its statuses (also as an array when they are one) and sender.</summary>
    private readonly record struct RunResponse(IReadOnlyList<TableStatus> List, TableStatus[]? Array, CaptureId From);

    /// <summary>
    /// How a slot packs a status's place in the run: the response's offset in the run in the high
    /// bits, its position + 1 in the low <see cref="PositionBits"/> bits (0 is an empty slot).
    /// </summary>
    private readonly record struct SlotFormat(int PositionBits)
    {
        /// <summary>The format for a run, or null when the run is too large to pack in 31 bits.</summary>
        public static SlotFormat? For(IReadOnlyList<Message> messages, int start, int end)
        {
            int longest = 0;
            for (int message = start; message < end; message++)
            {
                longest = Math.Max(longest, messages[message].HeartbeatResponse!.Tables.Count);
            }

            int positionBits = 32 - int.LeadingZeroCount(longest); // holds position + 1 ≤ longest
            int messageBits = 32 - int.LeadingZeroCount(end - start - 1);
            return positionBits <= 30 && positionBits + messageBits <= 31 ? new SlotFormat(positionBits) : null;
        }

        /// <summary>The slot of the status at <paramref name="position"/> of the run's <paramref name="offset"/>-th response.</summary>
        public int Slot(int offset, int position) => (offset << PositionBits) + position + 1;

        /// <summary>The message (index into the inbox) and position a non-empty slot stands for.</summary>
        public (int Message, int Position) Decode(int slot, int start) =>
            (start + (slot >>> PositionBits), (slot & ((1 << PositionBits) - 1)) - 1);
    }
}
