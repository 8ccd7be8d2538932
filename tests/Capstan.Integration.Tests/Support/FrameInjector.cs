namespace Capstan.Integration.Tests.Support;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using Capstan.Protocol;
using Capstan.Protocol.Transport;
using Capstan.Runtime.Hosting;
using Grpc.Core;
using Grpc.Net.Client;
using Google.Protobuf;

/// <summary>Speaks the capture transport directly: sends hand-made frames (or raw bytes) to a capture's gRPC port.</summary>
public sealed class FrameInjector : IDisposable
{
    private static readonly Method<byte[], byte[]> RawExchange = new(
        MethodType.DuplexStreaming, "capstan.transport.v1.CaptureTransport", "Exchange",
        Marshallers.Create(bytes => bytes, bytes => bytes), Marshallers.Create(bytes => bytes, bytes => bytes));

    private readonly GrpcChannel _channel;

    /// <summary>A channel to 127.0.0.1:<paramref name="grpcPort"/> (h2c), with generous message limits so the server's limit is what is tested.</summary>
    public FrameInjector(int grpcPort)
    {
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}", new GrpcChannelOptions
        {
            MaxSendMessageSize = 64 * 1024 * 1024,
            MaxReceiveMessageSize = 64 * 1024 * 1024,
        });
    }

    /// <summary>Remove requests for <paramref name="tables"/>, as the agent-bound messages of an owner with <paramref name="revision"/>.</summary>
    public static Frame RemoveTables(string fromOwner, string to, long revision, string processorEpoch, ulong changefeedEpoch, IEnumerable<long> tables)
    {
        var frame = new Frame { FromCapture = fromOwner, Changefeed = CapstanCluster.Changefeed, Role = Role.Agent, Sequence = 1 };
        var header = new Header(CapstanVersion.Current, new OwnerRevision(revision), new ProcessorEpoch(processorEpoch), new ChangefeedEpoch(changefeedEpoch));
        foreach (var table in tables)
        {
            var message = Message.RemoveTable(to, TableSpans.WholeTable(new TableId(table))) with { Header = header, From = fromOwner };
            frame.Messages.Add(WireMapping.ToWire(message));
        }

        return frame;
    }

    /// <summary>A heartbeat from <paramref name="from"/> to <paramref name="to"/>, for frames that only need some valid message.</summary>
    public static Capstan.Protocol.Wire.Message Heartbeat(string from, string to) => WireMapping.ToWire(new Message
    {
        Header = new Header(CapstanVersion.Current, new OwnerRevision(1), ProcessorEpoch.None, new ChangefeedEpoch(1)),
        Type = MessageType.Heartbeat,
        From = from,
        To = to,
        Heartbeat = new Heartbeat(),
    });

    /// <summary>Sends frames on one stream and returns their acks.</summary>
    public async Task<IReadOnlyList<Ack>> SendAsync(params Frame[] frames)
    {
        using var call = new CaptureTransport.CaptureTransportClient(_channel).Exchange();
        var acks = new List<Ack>();
        foreach (var frame in frames)
        {
            await call.RequestStream.WriteAsync(frame);
            if (!await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                break;
            }

            acks.Add(call.ResponseStream.Current);
        }

        await call.RequestStream.CompleteAsync();
        return acks;
    }

    /// <summary>Sends raw bytes as one gRPC message of the Exchange stream; returns the error that ended the stream (null if it did not).</summary>
    public async Task<RpcException?> SendRawAsync(byte[] bytes)
    {
        using var call = _channel.CreateCallInvoker().AsyncDuplexStreamingCall(RawExchange, null, default);
        try
        {
            await call.RequestStream.WriteAsync(bytes);
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }

            return null;
        }
        catch (RpcException error)
        {
            return error;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _channel.Dispose();
}
