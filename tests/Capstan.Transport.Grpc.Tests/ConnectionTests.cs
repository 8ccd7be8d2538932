namespace Capstan.Transport.Grpc.Tests;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Runtime.Transport;
using Capstan.Transport.Grpc.Tests.Support;

[Trait("Category", "Integration")]
public sealed class ConnectionTests
{
    private static readonly GrpcTransportOptions Fast = new()
    {
        ReconnectInitialDelay = TimeSpan.FromMilliseconds(20),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
    };

    [Fact(DisplayName = "Reconnect: the peer's server stops and starts again on the same port → the stream is re-established and later messages arrive")]
    public async Task PeerRestartsOnSamePort_Reconnects_MessagesArrive()
    {
        var book = new AddressBook();
        await using var a = await CaptureNode.StartAsync("a", book, Fast);
        var b = CaptureNode.Create("b", book, Fast);
        var first = b.OpenInbox("cf", TransportRole.Agent);
        await b.StartAsync();
        int port = b.Port;
        var coordinator = a.Open("cf", TransportRole.Scheduler);
        Assert.Equal(3, coordinator.Send(Heartbeats(1, 3)));
        await first.WaitForAsync(3);

        await b.StopAsync();
        await Wait.UntilAsync(() => a.Transport.Counters.Peer("b") is { Connected: false }, () => "a did not notice b stopped");
        Assert.Equal(4, coordinator.Send(Heartbeats(10, 4)));   // held while b is down

        await using var b2 = CaptureNode.Create("b", book, Fast, port);
        var second = b2.OpenInbox("cf", TransportRole.Agent);
        await b2.StartAsync();
        await Wait.UntilAsync(() => a.Transport.Counters.Reconnects >= 1, () => $"{a.Transport.Counters.Peer("b")}");
        Assert.Equal(5, coordinator.Send(Heartbeats(20, 5)));

        await second.WaitForAsync(9);
        var tables = second.All.Select(message => message.Heartbeat!.Spans[0].TableId.Value).ToArray();
        Assert.Equal([10, 11, 12, 13, 20, 21, 22, 23, 24], tables);
        var peer = a.Transport.Counters.Peer("b")!;
        Assert.True(peer.Connected);
        Assert.Equal(0, peer.DroppedOnDisconnect);
        Assert.True(a.Log.Contains(Microsoft.Extensions.Logging.LogLevel.Information, "reconnect: True"));
    }

    [Fact(DisplayName = "Identity: an address that now serves another capture is not used (no message reaches the wrong capture)")]
    public async Task AddressServesAnotherCapture_NotConnected()
    {
        var book = new AddressBook();
        await using var a = await CaptureNode.StartAsync("a", book, Fast);
        await using var c = CaptureNode.Create("c", book, Fast);
        var inbox = c.OpenInbox("cf", TransportRole.Agent);
        await c.StartAsync();
        book["b"] = c.Address;   // stale membership: b's old address, now reused by c
        var coordinator = a.Open("cf", TransportRole.Scheduler);

        Assert.Equal(1, coordinator.Send([TestMessages.Heartbeat("a", "b", 1)]));

        await Wait.UntilAsync(() => a.Transport.Counters.ConnectFailures >= 2, () => $"{a.Transport.Counters}");
        Assert.Equal(0, inbox.Count);
        Assert.Equal(0, c.Transport.Counters.ReceivedFrames);
        Assert.Equal(1, a.Transport.Counters.Peer("b")!.Buffered);
    }

    [Fact(DisplayName = "Dispose: queued messages are flushed, streams completed, nothing is counted as malformed or dropped on either side")]
    public async Task Dispose_FlushesAndCompletesStreams()
    {
        var book = new AddressBook();
        var a = await CaptureNode.StartAsync("a", book, Fast with { FlushInterval = TimeSpan.FromMilliseconds(200) });
        await using var b = CaptureNode.Create("b", book, Fast);
        var inbox = b.OpenInbox("cf", TransportRole.Agent);
        await b.StartAsync();
        var coordinator = a.Open("cf", TransportRole.Scheduler);
        Assert.Equal(1, coordinator.Send(Heartbeats(1, 1)));
        await inbox.WaitForAsync(1);

        // With a 200 ms flush interval these are still lingering in the buffer when disposal starts.
        Assert.Equal(50, coordinator.Send(Heartbeats(100, 50)));
        await a.Transport.DisposeAsync();

        await inbox.WaitForAsync(51);
        var sender = a.Transport.Counters;
        Assert.Equal(51, sender.SentMessages);
        Assert.Equal(0, sender.DroppedOnDisconnect);
        Assert.Empty(sender.Peers);
        var receiver = b.Transport.Counters;
        Assert.Equal(0, receiver.RejectedBadFrames + receiver.RejectedMalformed);
        await a.StopAsync();
    }

    [Fact(DisplayName = "The server's host stops while a peer's stream is open → the host stops promptly and the peer sees the stream end")]
    public async Task ServerStops_WithOpenStream_StopsPromptly()
    {
        var book = new AddressBook();
        await using var a = await CaptureNode.StartAsync("a", book, Fast);
        var b = CaptureNode.Create("b", book, Fast);
        var inbox = b.OpenInbox("cf", TransportRole.Agent);
        await b.StartAsync();
        Assert.Equal(1, a.Open("cf", TransportRole.Scheduler).Send(Heartbeats(1, 1)));
        await inbox.WaitForAsync(1);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await b.StopAsync();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {clock.Elapsed}");   // Kestrel's grace period is 30 s
        await Wait.UntilAsync(() => a.Transport.Counters.Peer("b") is { Connected: false }, () => "a did not notice b stopped");
    }

    private static List<Message> Heartbeats(long first, int count) =>
        [.. Enumerable.Range(0, count).Select(index => TestMessages.Heartbeat("a", "b", first + index))];
}
