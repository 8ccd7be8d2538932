namespace Capstan.Core.Spans;

using Capstan.Core.Model;

/// <summary>
/// Whole-table spans and table ranges, encoded as TiDB does so that spans of a table sort
/// together and split spans can cover exactly the table's row keys.
/// </summary>
public static class TableSpans
{
    private const int RawKeyLength = 11;

    /// <summary>
    /// The whole-table span: row keys "t{table id, sign flipped, big-endian}_r" up to "…_s",
    /// both encoded in TiDB's memcomparable bytes format (18 bytes each).
    /// </summary>
    public static Span WholeTable(TableId tableId) =>
        new(tableId, TableStartKey(tableId), TableEndKey(tableId));

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

    private static byte[] RawPrefix(TableId tableId, byte last)
    {
        var raw = new byte[RawKeyLength];
        raw[0] = (byte)'t';
        ulong flipped = (ulong)tableId.Value ^ 0x8000000000000000UL;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(raw.AsSpan(1, 8), flipped);
        raw[9] = (byte)'_';
        raw[10] = last;
        return raw;
    }

    /// <summary>
    /// TiDB's memcomparable encoding: groups of 8 bytes each followed by a marker byte
    /// (0xFF for a full group, 0xFF − padding for the last, zero-padded group).
    /// </summary>
    public static byte[] EncodeBytes(ReadOnlySpan<byte> data)
    {
        const int group = 8;
        int groups = (data.Length / group) + 1;
        var result = new byte[groups * (group + 1)];
        int written = 0;
        for (int index = 0; index <= data.Length; index += group)
        {
            int remain = data.Length - index;
            int pad = remain >= group ? 0 : group - remain;
            int take = group - pad;
            data.Slice(index, take).CopyTo(result.AsSpan(written));
            written += group; // padding bytes are already zero
            result[written++] = (byte)(0xFF - pad);
        }

        return result;
    }
}
