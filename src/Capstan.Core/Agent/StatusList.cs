namespace Capstan.Core.Agent;

using System.Collections;
using Capstan.Core.Protocol;

/// <summary>
/// The statuses of one heartbeat response, stored in chunks of <see cref="ChunkSize"/> so that no
/// array reaches the large-object heap (an agent with 8,192 spans would otherwise put a 512 KB
/// array there on every heartbeat, and the LOH is only collected with generation 2).
/// </summary>
/// <remarks>
/// Written once by the agent while it builds the response, then immutable: the message that
/// carries it is shared with the transport and the receiver, which may keep it (the coordinator's
/// capture manager keeps each capture's statuses until its rebuild), so it is never reused or pooled.
/// </remarks>
internal sealed class StatusList : IReadOnlyList<TableStatus>
{
    /// <summary>Log2 of the chunk size.</summary>
    public const int ChunkShift = 10;

    /// <summary>Statuses per chunk: 1,024 × 64 bytes stays below the 85,000-byte LOH threshold.</summary>
    public const int ChunkSize = 1 << ChunkShift;

    private const int ChunkMask = ChunkSize - 1;

    private readonly TableStatus[][] _chunks;

    /// <summary>
    /// A list of <paramref name="count"/> statuses to be filled through the returned writer: a plain
    /// array up to <see cref="ChunkSize"/> statuses (consumers index arrays fastest), chunks above.
    /// </summary>
    public static Writer Allocate(int count, out IReadOnlyList<TableStatus> list)
    {
        if (count <= ChunkSize)
        {
            var array = new TableStatus[count];
            list = array;
            return new Writer([array]);
        }

        var chunked = new StatusList(count);
        list = chunked;
        return new Writer(chunked._chunks);
    }

    private StatusList(int count)
    {
        Count = count;
        _chunks = new TableStatus[(count + ChunkMask) >> ChunkShift][];
        for (int chunk = 0; chunk < _chunks.Length; chunk++)
        {
            _chunks[chunk] = new TableStatus[Math.Min(ChunkSize, count - (chunk << ChunkShift))];
        }
    }

    /// <inheritdoc/>
    public int Count { get; }


    /// <inheritdoc/>
    public TableStatus this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            return _chunks[index >> ChunkShift][index & ChunkMask];
        }
    }

    /// <inheritdoc/>
    public IEnumerator<TableStatus> GetEnumerator()
    {
        foreach (TableStatus[] chunk in _chunks)
        {
            foreach (TableStatus status in chunk)
            {
                yield return status;
            }
        }
    }

    /// <inheritdoc/>
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Fills a new list front to back (used only while the response is being built).</summary>
    public struct Writer
    {
        private readonly TableStatus[][] _chunks;
        private int _chunk;
        private int _offset;

        public Writer(TableStatus[][] chunks)
        {
            _chunks = chunks;
        }

        /// <summary>Appends the next status.</summary>
        public void Add(in TableStatus status) => Next() = status;

        /// <summary>The slot of the next status, to be written at once.</summary>
        public ref TableStatus Next()
        {
            TableStatus[] chunk = _chunks[_chunk];
            ref TableStatus slot = ref chunk[_offset];
            if (++_offset == chunk.Length)
            {
                _chunk++;
                _offset = 0;
            }

            return ref slot;
        }
    }
}
