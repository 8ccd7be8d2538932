namespace Capstan.Transport.Grpc.Tests;

using Capstan.Protocol;
using Capstan.Protocol.Transport;
using Capstan.Runtime.Transport;
using Capstan.Transport.Grpc.Tests.Support;
using global::Grpc.Core;
using global::Grpc.Net.Client;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Wire = Capstan.Protocol.Wire;

/// <summary>Hand-crafted frames from a raw gRPC client: the server rejects and counts, and keeps serving.</summary>
[Trait("Category", "Integration")]
public sealed class MalformedFrameTests
{
    private static readonly Method<byte[], byte[]> RawExchange = new(
        MethodType.DuplexStreaming,
        "capstan.transport.v1.CaptureTransport",
        "Exchange",
        Marshallers.Create(bytes => bytes, bytes => bytes),
        Marshallers.Create(bytes => bytes, bytes => bytes));

    [Fact(DisplayName = "Malformed frames (bad role, no sender, no changefeed) and messages (payload ≠ type, wrong sender, wrong receiver) are rejected, counted and logged; good messages of the same stream still arrive")]
    public async Task MalformedFramesAndMessages_RejectedCounted_StreamStaysUp()
    {
        var book = new AddressBook();
        await using var b = CaptureNode.Create("b", book);
        var inbox = b.OpenInbox("cf", TransportRole.Agent);
        await b.StartAsync();
        using var channel = GrpcChannel.ForAddress(b.Address);
        using var call = new CaptureTransport.CaptureTransportClient(channel).Exchange();
        var good = WireMapping.ToWire(TestMessages.Heartbeat("x", "b", 1));
        var mismatched = WireMapping.ToWire(TestMessages.Heartbeat("x", "b", 2));
        mismatched.DispatchTableRequest = new Wire.DispatchTableRequest { RemoveTable = new Wire.RemoveTableRequest { Span = new Wire.Span { TableId = 2 } } };
        mismatched.Heartbeat = null;

        var acks = new List<Ack>();
        async Task<Ack> SendAsync(Frame frame)
        {
            frame.Sequence = (ulong)acks.Count + 1;
            await call.RequestStream.WriteAsync(frame);
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            acks.Add(call.ResponseStream.Current);
            return call.ResponseStream.Current;
        }

        var badRole = await SendAsync(Frame("x", "cf", (Role)7, good, good));
        var noRole = await SendAsync(Frame("x", "cf", Role.Unspecified, good));
        var noSender = await SendAsync(Frame(string.Empty, "cf", Role.Agent, good));
        var noChangefeed = await SendAsync(Frame("x", string.Empty, Role.Agent, good));
        var mixed = await SendAsync(Frame("x", "cf", Role.Agent, good, mismatched,
            WireMapping.ToWire(TestMessages.Heartbeat("y", "b", 3)), WireMapping.ToWire(TestMessages.Heartbeat("x", "c", 4))));
        var fine = await SendAsync(Frame("x", "cf", Role.Agent, WireMapping.ToWire(TestMessages.Heartbeat("x", "b", 5))));

        Assert.Equal((0, 2), (badRole.Accepted, badRole.Rejected));
        Assert.Contains("role 7", badRole.Error, StringComparison.Ordinal);
        Assert.Equal((0, 1), (noRole.Accepted, noRole.Rejected));
        Assert.Equal((0, 1), (noSender.Accepted, noSender.Rejected));
        Assert.Equal((0, 1), (noChangefeed.Accepted, noChangefeed.Rejected));
        Assert.Equal((1, 3), (mixed.Accepted, mixed.Rejected));
        Assert.Contains("heartbeat payload is missing", mixed.Error, StringComparison.Ordinal);
        Assert.Equal((1, 0), (fine.Accepted, fine.Rejected));
        Assert.Equal([1UL, 2, 3, 4, 5, 6], acks.Select(ack => ack.Sequence));
        await inbox.WaitForAsync(2);
        Assert.Equal([1L, 5], inbox.All.Select(message => message.Heartbeat!.Spans[0].TableId.Value));

        var counters = b.Transport.Counters;
        Assert.Equal(4, counters.RejectedBadFrames);
        Assert.Equal(8, counters.RejectedMalformed);
        Assert.Equal(2, counters.Received);
        Assert.True(b.Log.Contains(LogLevel.Warning, "malformed"));
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));
    }

    [Fact(DisplayName = "Garbage bytes instead of a frame: that stream is closed with InvalidArgument, counted and logged; the server goes on serving other streams")]
    public async Task GarbageBytes_StreamClosed_ServerKeepsServing()
    {
        var book = new AddressBook();
        await using var b = CaptureNode.Create("b", book);
        var inbox = b.OpenInbox("cf", TransportRole.Agent);
        await b.StartAsync();
        using var channel = GrpcChannel.ForAddress(b.Address);
        var good = Frame("x", "cf", Role.Agent, WireMapping.ToWire(TestMessages.Heartbeat("x", "b", 1)));
        good.Sequence = 1;

        using (var raw = channel.CreateCallInvoker().AsyncDuplexStreamingCall(RawExchange, null, default))
        {
            await raw.RequestStream.WriteAsync(good.ToByteArray());
            Assert.True(await raw.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(1, Ack.Parser.ParseFrom(raw.ResponseStream.Current).Accepted);

            await raw.RequestStream.WriteAsync([0x0A, 0x7F, 0x01]);   // a string field claiming 127 bytes, holding 1
            var error = await Assert.ThrowsAsync<RpcException>(() => raw.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        }

        using var call = new CaptureTransport.CaptureTransportClient(channel).Exchange();
        await call.RequestStream.WriteAsync(good);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(1, call.ResponseStream.Current.Accepted);
        await inbox.WaitForAsync(2);

        Assert.Equal(1, b.Transport.Counters.RejectedBadFrames);
        Assert.True(b.Log.Contains(LogLevel.Warning, "could not be read"));
    }

    [Fact(DisplayName = "A frame over the receiver's size limit closes that stream (counted); the server keeps serving")]
    public async Task FrameOverTheLimit_StreamClosed_Counted()
    {
        var book = new AddressBook();
        await using var b = CaptureNode.Create("b", book, new GrpcTransportOptions { MaxFrameBytes = 4096 });
        var inbox = b.OpenInbox("cf", TransportRole.Agent);
        await b.StartAsync();
        using var channel = GrpcChannel.ForAddress(b.Address);
        var big = Frame("x", "cf", Role.Agent, WireMapping.ToWire(TestMessages.BigHeartbeat("x", "b", 200)));

        using (var call = new CaptureTransport.CaptureTransportClient(channel).Exchange())
        {
            await call.RequestStream.WriteAsync(big);
            var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        }

        using var next = new CaptureTransport.CaptureTransportClient(channel).Exchange();
        await next.RequestStream.WriteAsync(Frame("x", "cf", Role.Agent, WireMapping.ToWire(TestMessages.Heartbeat("x", "b", 1))));
        Assert.True(await next.ResponseStream.MoveNext(CancellationToken.None));
        await inbox.WaitForAsync(1);
        Assert.Equal(1, b.Transport.Counters.RejectedBadFrames);
    }

    private static Frame Frame(string from, string changefeed, Role role, params Wire.Message[] messages)
    {
        var frame = new Frame { FromCapture = from, Changefeed = changefeed, Role = role };
        frame.Messages.AddRange(messages);
        return frame;
    }
}
