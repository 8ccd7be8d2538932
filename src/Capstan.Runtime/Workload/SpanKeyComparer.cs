namespace Capstan.Runtime.Workload;

using System.Buffers.Binary;
using Capstan.Core.Spans;

/// <summary>
/// Span equality as <see cref="Span.Equals(Span)"/>, with a cheaper hash for hash tables keyed by
/// span: the table id, the key lengths and the last (up to) 8 bytes of each key, instead of every
/// key byte. Spans of different tables differ in the table id; spans of one table (split by key)
/// differ in their keys' tails. Used where a simulated executor looks spans up every tick.
/// </summary>
public sealed class SpanKeyComparer : IEqualityComparer<Span>
{
    /// <summary>The one instance.</summary>
    public static readonly SpanKeyComparer Instance = new();

    private SpanKeyComparer()
    {
    }

    /// <inheritdoc/>
    public bool Equals(Span x, Span y) => x.Equals(y);

    /// <inheritdoc/>
    public int GetHashCode(Span obj)
    {
        ulong hash = (ulong)obj.TableId.Value * 0x9E3779B97F4A7C15UL;
        hash = Mix(hash ^ Tail(obj.StartKey));
        hash = Mix(hash ^ Tail(obj.EndKey));
        return (int)hash ^ (int)(hash >> 32);
    }

    /// <summary>The key's length and its last 8 bytes (fewer for a shorter key).</summary>
    private static ulong Tail(ReadOnlySpan<byte> key)
    {
        ulong tail = key.Length >= 8
            ? BinaryPrimitives.ReadUInt64LittleEndian(key[^8..])
            : ShortTail(key);
        return tail ^ ((ulong)key.Length << 56);
    }

    private static ulong ShortTail(ReadOnlySpan<byte> key)
    {
        ulong tail = 0;
        foreach (byte b in key)
        {
            tail = (tail << 8) | b;
        }

        return tail;
    }

    private static ulong Mix(ulong x)
    {
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
