namespace Capstan.Core.Spans;

using Capstan.Core.Model;

/// <summary>
/// Whole-table spans and table ranges, encoded as TiDB does so that spans of a table sort
/// together and split spans can cover exactly the table's row keys.
/// </summary>
public static class TableSpans
{
    private const int RawKeyLength = 11;

    /// <summary>Length of an encoded table start or end key.</summary>
    public const int TableKeyLength = 18;

    /// <summary>
    /// The whole-table span: row keys "t{table id, sign flipped, big-endian}_r" up to "…_s",
    /// both encoded in TiDB's memcomparable bytes format (18 bytes each).
    /// </summary>
    public static Span WholeTable(TableId tableId)
    {
        Span<byte> start = stackalloc byte[TableKeyLength];
        Span<byte> end = stackalloc byte[TableKeyLength];
        WriteTableStartKey(tableId, start);
        WriteTableEndKey(tableId, end);
        return new Span(tableId, start, end);
    }

    /// <summary>Encoded start key of the table's row range.</summary>
    public static byte[] TableStartKey(TableId tableId) => EncodeBytes(RawPrefix(tableId, (byte)'r'));

    /// <summary>Encoded end key (exclusive) of the table's row range.</summary>
    public static byte[] TableEndKey(TableId tableId) => EncodeBytes(RawPrefix(tableId, (byte)'s'));

    /// <summary>
    /// The probe pair used for range lookups: "all spans of table T" are the spans in [Start, End)
    /// in span order. Keyless spans ({T}) sort before Start and are not included.
    /// </summary>
    public static (Span Start, Span End) TableRange(TableId tableId) =>
        (new Span(tableId, TableStartKey(tableId), null), new Span(tableId, TableEndKey(tableId), null));

    /// <summary>Writes the table's encoded start key into <paramref name="destination"/> (no allocation; equal to <see cref="TableStartKey"/>).</summary>
    public static void WriteTableStartKey(TableId tableId, Span<byte> destination) => WriteTableKey(tableId, (byte)'r', destination);

    /// <summary>Writes the table's encoded end key into <paramref name="destination"/> (no allocation; equal to <see cref="TableEndKey"/>).</summary>
    public static void WriteTableEndKey(TableId tableId, Span<byte> destination) => WriteTableKey(tableId, (byte)'s', destination);

    /// <summary>
    /// <paramref name="span"/> compared, in span order, with the probe span (<paramref name="table"/>,
    /// <paramref name="key"/>, no end key) without building the probe: with
    /// <see cref="WriteTableStartKey"/> and <see cref="WriteTableEndKey"/> this finds a table's
    /// spans as <see cref="TableRange"/>'s probes do, allocation-free.
    /// </summary>
    public static int CompareToProbe(Span span, TableId table, ReadOnlySpan<byte> key)
    {
        int order = span.TableId.Value.CompareTo(table.Value);
        if (order != 0)
        {
            return order;
        }

        order = span.StartKey.SequenceCompareTo(key);
        return order != 0 ? order : (span.EndKey.IsEmpty ? 0 : 1);
    }

    private static void WriteTableKey(TableId tableId, byte last, Span<byte> destination)
    {
        Span<byte> raw = stackalloc byte[RawKeyLength];
        WriteRawPrefix(tableId, last, raw);
        EncodeBytes(raw, destination[..TableKeyLength]);
    }

    private static byte[] RawPrefix(TableId tableId, byte last)
    {
        var raw = new byte[RawKeyLength];
        WriteRawPrefix(tableId, last, raw);
        return raw;
    }

    private static void WriteRawPrefix(TableId tableId, byte last, Span<byte> raw)
    {
        raw[0] = (byte)'t';
        ulong flipped = (ulong)tableId.Value ^ 0x8000000000000000UL;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(raw.Slice(1, 8), flipped);
        raw[9] = (byte)'_';
        raw[10] = last;
    }

    /// <summary>
    /// TiDB's memcomparable encoding: groups of 8 bytes each followed by a marker byte
    /// (0xFF for a full group, 0xFF − padding for the last, zero-padded group).
    /// </summary>
    public static byte[] EncodeBytes(ReadOnlySpan<byte> data)
    {
        var result = new byte[EncodedLength(data.Length)];
        EncodeBytes(data, result);
        return result;
    }

    private static int EncodedLength(int length) => ((length / 8) + 1) * 9;

    /// <summary>Writes <see cref="EncodeBytes(ReadOnlySpan{byte})"/> of <paramref name="data"/> into <paramref name="result"/>, which must be exactly that long.</summary>
    private static void EncodeBytes(ReadOnlySpan<byte> data, Span<byte> result)
    {
        const int group = 8;
        if (result.Length != EncodedLength(data.Length))
        {
            throw new ArgumentException($"encoding {data.Length} bytes needs {EncodedLength(data.Length)} bytes, not {result.Length}", nameof(result));
        }

        result.Clear();
        int written = 0;
        for (int index = 0; index <= data.Length; index += group)
        {
            int remain = data.Length - index;
            int pad = remain >= group ? 0 : group - remain;
            int take = group - pad;
            data.Slice(index, take).CopyTo(result[written..]);
            written += group; // padding bytes are already zero
            result[written++] = (byte)(0xFF - pad);
        }
    }
}
