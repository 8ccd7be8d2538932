namespace Capstan.Transport.Grpc.Tests;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Runtime.Transport;
using Capstan.Transport.Grpc.Tests.Support;

[Trait("Category", "Integration")]
public sealed class BackpressureTests
{
    private static readonly GrpcTransportOptions Fast = new()
    {
        ReconnectInitialDelay = TimeSpan.FromMilliseconds(20),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
    };

    [Fact(DisplayName = "Peer down: the send buffer holds exactly its capacity, refuses and counts the overflow, and delivers the held messages when the peer comes up")]
    public async Task PeerDown_BufferRefusesOverflow_ThenDeliversWhenPeerStarts()
    {
        var book = new AddressBook();
        int port = AddressBook.FreePort();
        book["b"] = $"http://127.0.0.1:{port}";
        var options = Fast with { SendBufferCapacity = 100 };
        await using var a = await CaptureNode.StartAsync("a", book, options);
        var coordinator = a.Open("cf", TransportRole.Scheduler);

        Assert.Equal(100, coordinator.Send(Heartbeats("b", 1, 130)));
        Assert.Equal(0, coordinator.Send(Heartbeats("b", 131, 5)));
        await Wait.UntilAsync(() => a.Transport.Counters.ConnectFailures >= 2, () => "a never tried to connect");
        Assert.Equal(0, coordinator.Send(Heartbeats("b", 136, 1)));

        var peer = a.Transport.Counters.Peer("b")!;
        Assert.Equal(36, peer.RefusedSendBufferFull);
        Assert.Equal(100, peer.Buffered);
        Assert.False(peer.Connected);

        await using var b = CaptureNode.Create("b", book, options, port);
        var inbox = b.OpenInbox("cf", TransportRole.Agent);
        await b.StartAsync();

        await inbox.WaitForAsync(100);
        Assert.Equal(Enumerable.Range(1, 100).Select(table => (long)table), inbox.All.Select(m => m.Heartbeat!.Spans[0].TableId.Value));
        Assert.Equal(1, coordinator.Send(Heartbeats("b", 200, 1)));
        await inbox.WaitForAsync(101);
        Assert.Equal(0, a.Transport.Counters.Peer("b")!.Buffered);
    }

    [Fact(DisplayName = "Receiver: a full inbox refuses exactly the overflow, an unknown changefeed refuses all; both are counted and acknowledged back")]
    public async Task InboxFullAndUnknownEndpoint_RejectedCountedAndAcked()
    {
        var book = new AddressBook();
        await using var a = await CaptureNode.StartAsync("a", book, Fast);
        await using var b = CaptureNode.Create("b", book, Fast with { InboxCapacity = 10 });
        var inbox = b.OpenInbox("cf", TransportRole.Agent);
        await b.StartAsync();
        var coordinator = a.Open("cf", TransportRole.Scheduler);
        var stranger = a.Open("unknown-cf", TransportRole.Scheduler);

        Assert.Equal(15, coordinator.Send(Heartbeats("b", 1, 15)));
        Assert.Equal(4, stranger.Send(Heartbeats("b", 1, 4)));

        await Wait.UntilAsync(() => a.Transport.Counters.RejectedByPeers == 9, () => $"{a.Transport.Counters}");
        Assert.Equal(10, inbox.Count);
        var received = b.Transport.Counters;
        Assert.Equal(10, received.Received);
        Assert.Equal(5, received.RejectedInboxFull);
        Assert.Equal(4, received.RejectedUnknownEndpoint);
        Assert.Equal(10, a.Transport.Counters.AcceptedByPeers);
        Assert.True(a.Log.Contains(Microsoft.Extensions.Logging.LogLevel.Information, "rejected"));

        // Draining the inbox makes room again.
        Assert.Equal(3, coordinator.Send(Heartbeats("b", 100, 3)));
        await inbox.WaitForAsync(13);
    }

    [Fact(DisplayName = "Size limit: a message that just fits a frame arrives; one that does not is refused by Send")]
    public async Task MessageAtTheFrameLimit_Arrives_LargerRefused()
    {
        const int limit = 64 * 1024;
        var book = new AddressBook();
        var options = Fast with { MaxFrameBytes = limit };
        await using var a = await CaptureNode.StartAsync("a", book, options);
        await using var b = CaptureNode.Create("b", book, options);
        var inbox = b.OpenInbox("cf", TransportRole.Agent);
        await b.StartAsync();
        var coordinator = a.Open("cf", TransportRole.Scheduler);
        int fits = GrpcTransportTests.LargestFitting(limit, "a", "cf");
        var largest = TestMessages.BigHeartbeat("a", "b", fits);

        Assert.Equal(2, coordinator.Send([TestMessages.BigHeartbeat("a", "b", fits + 1), largest, largest]));

        await inbox.WaitForAsync(2);
        Assert.Equal(largest, inbox.All[0]);
        var counters = a.Transport.Counters;
        Assert.Equal(1, counters.RefusedOversize);
        Assert.Equal(2, counters.SentFrames);  // two messages that each fill a frame travel in two frames
        Assert.Equal(0, b.Transport.Counters.RejectedBadFrames);
    }

    private static List<Message> Heartbeats(CaptureId to, long first, int count) =>
        [.. Enumerable.Range(0, count).Select(index => TestMessages.Heartbeat("a", to, first + index))];
}
