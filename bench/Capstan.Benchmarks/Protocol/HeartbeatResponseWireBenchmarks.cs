namespace Capstan.Benchmarks.Protocol;

using BenchmarkDotNet.Attributes;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using Capstan.Protocol;
using Google.Protobuf;
using Wire = Capstan.Protocol.Wire;

/// <summary>
/// TiCDC's table_schedule_manual_test.go benchmarks (spec §11.3): Marshal, Unmarshal and Size of a
/// HeartbeatResponse message holding N Replicating statuses. The Proto* methods work on the
/// generated protobuf type alone (what TiCDC's figures measure); Encode and Decode add the mapping
/// between the core's message records and the wire types (what a Capstan node really does).
/// </summary>
[MemoryDiagnoser]
public class HeartbeatResponseWireBenchmarks
{
    private Message _message = null!;
    private Wire.Message _wire = null!;
    private byte[] _bytes = [];

    /// <summary>Number of table statuses in the response.</summary>
    [ParamsSource(nameof(Sizes))]
    public int Statuses { get; set; }

    /// <summary>1 … 16,384, doubling (TiCDC's sizes).</summary>
    public static IEnumerable<int> Sizes => BenchmarkSizes.Doubling(16_384);

    /// <summary>Builds the message, its wire form and its bytes.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var statuses = new TableStatus[Statuses];
        var checkpoint = new Checkpoint(new Ts(449_000_000_000_000_000), new Ts(449_000_000_000_000_100), Ts.Zero);
        for (int index = 0; index < Statuses; index++)
        {
            statuses[index] = new TableStatus(TableSpans.WholeTable(new TableId(10_000 + index)), TableState.Replicating, checkpoint);
        }

        _message = new Message
        {
            Header = new Header("bench", new OwnerRevision(1), new ProcessorEpoch("agent-epoch"), default),
            Type = MessageType.HeartbeatResponse,
            From = "agent",
            To = "owner",
            HeartbeatResponse = new HeartbeatResponse { Tables = statuses, Liveness = Liveness.Alive },
        };
        _wire = WireMapping.ToWire(_message);
        _bytes = _wire.ToByteArray();
    }

    /// <summary>Serialises the generated protobuf message.</summary>
    [Benchmark]
    public byte[] ProtoMarshal() => _wire.ToByteArray();

    /// <summary>Parses the bytes into the generated protobuf message.</summary>
    [Benchmark]
    public Wire.Message ProtoUnmarshal() => Wire.Message.Parser.ParseFrom(_bytes);

    /// <summary>Computes the encoded size.</summary>
    [Benchmark]
    public int ProtoSize() => _wire.CalculateSize();

    /// <summary>Core message → bytes (mapping plus serialisation).</summary>
    [Benchmark]
    public byte[] Encode() => WireMapping.Encode(_message);

    /// <summary>Bytes → core message (parsing plus mapping and validation).</summary>
    [Benchmark]
    public Message Decode() => WireMapping.Decode(_bytes);
}
