namespace Capstan.Transport.Grpc.Tests;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Protocol;
using Capstan.Runtime.Transport;
using Capstan.Transport.Grpc.Tests.Support;

/// <summary>The transport without a server: options, endpoints, the self path and Send's refusals.</summary>
public sealed class GrpcTransportTests
{
    private static GrpcTransport Transport(AddressBook? book = null, GrpcTransportOptions? options = null) =>
        new("a", (book ?? new AddressBook()).Resolve, options);

    [Fact]
    public void Options_Defaults_AreTheDocumentedLimits()
    {
        var options = new GrpcTransportOptions().Validate();

        Assert.Equal(65_536, options.InboxCapacity);
        Assert.Equal(16_384, options.SendBufferCapacity);
        Assert.Equal(4 * 1024 * 1024, options.MaxFrameBytes);
        Assert.Equal(TimeSpan.FromMilliseconds(10), options.FlushInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.ReconnectInitialDelay);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ReconnectMaxDelay);
        Assert.Null(options.Tls);
    }

    [Theory]
    [InlineData(nameof(GrpcTransportOptions.InboxCapacity))]
    [InlineData(nameof(GrpcTransportOptions.SendBufferCapacity))]
    [InlineData(nameof(GrpcTransportOptions.MaxFrameBytes))]
    [InlineData(nameof(GrpcTransportOptions.BatchMaxMessages))]
    [InlineData(nameof(GrpcTransportOptions.FlushInterval))]
    [InlineData(nameof(GrpcTransportOptions.ReconnectMaxDelay))]
    public void Options_OutOfRange_Throw(string setting)
    {
        var options = setting switch
        {
            nameof(GrpcTransportOptions.InboxCapacity) => new GrpcTransportOptions { InboxCapacity = 0 },
            nameof(GrpcTransportOptions.SendBufferCapacity) => new GrpcTransportOptions { SendBufferCapacity = -1 },
            nameof(GrpcTransportOptions.MaxFrameBytes) => new GrpcTransportOptions { MaxFrameBytes = 100 },
            nameof(GrpcTransportOptions.BatchMaxMessages) => new GrpcTransportOptions { BatchMaxMessages = 0 },
            nameof(GrpcTransportOptions.FlushInterval) => new GrpcTransportOptions { FlushInterval = TimeSpan.FromSeconds(2) },
            _ => new GrpcTransportOptions { ReconnectMaxDelay = TimeSpan.FromMilliseconds(10) },
        };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => options.Validate());
        Assert.Equal(setting, error.ParamName);
    }

    [Fact]
    public void TlsOptions_MissingFile_Throws()
    {
        var tls = new TlsOptions { CertificatePemPath = "/nonexistent/cert.pem", KeyPemPath = "/nonexistent/key.pem" };

        Assert.Throws<ArgumentException>(() => new GrpcTransportOptions { Tls = tls }.Validate());
    }

    [Fact]
    public async Task Open_TwiceOrForAnotherCapture_Throws()
    {
        await using var transport = Transport();
        using var endpoint = transport.Open("a", "cf", TransportRole.Agent);

        Assert.Throws<InvalidOperationException>(() => transport.Open("a", "cf", TransportRole.Agent));
        Assert.Throws<ArgumentException>(() => transport.Open("b", "cf", TransportRole.Agent));
        using var other = transport.Open("a", "cf", TransportRole.Scheduler);
        Assert.True(transport.IsOpen("cf", TransportRole.Scheduler));
    }

    [Fact]
    public async Task Open_AfterDispose_ThrowsButReopenAfterEndpointDisposeWorks()
    {
        var transport = Transport();
        transport.Open("a", "cf", TransportRole.Agent).Dispose();
        using (transport.Open("a", "cf", TransportRole.Agent))
        {
            Assert.True(transport.IsOpen("cf", TransportRole.Agent));
        }

        Assert.False(transport.IsOpen("cf", TransportRole.Agent));
        await transport.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => transport.Open("a", "cf", TransportRole.Agent));
    }

    [Fact(DisplayName = "Self-send: a message to this capture reaches the other role's inbox as the same object, without serialisation")]
    public async Task SelfSend_DeliversTheSameObject()
    {
        await using var transport = Transport();
        using var coordinator = transport.Open("a", "cf", TransportRole.Scheduler);
        using var agent = transport.Open("a", "cf", TransportRole.Agent);
        int arrivals = 0;
        agent.MessagesArrived += () => arrivals++;
        var heartbeat = TestMessages.Heartbeat("a", "a", 1);
        var response = TestMessages.Response("a", "a", 1);

        Assert.Equal(1, coordinator.Send([heartbeat]));
        Assert.Equal(1, agent.Send([response]));

        Assert.Same(heartbeat, Assert.Single(agent.Receive()));
        Assert.Same(response, Assert.Single(coordinator.Receive()));
        Assert.Empty(agent.Receive());
        Assert.Equal(1, arrivals);
        var counters = transport.Counters;
        Assert.Equal(2, counters.SelfDelivered);
        Assert.Equal(2, counters.Taken);
        Assert.Equal(0, counters.Queued);
        Assert.Empty(counters.Peers);
    }

    [Fact(DisplayName = "Self-send: an empty From is stamped with this capture's id")]
    public async Task SelfSend_EmptyFrom_IsStamped()
    {
        await using var transport = Transport();
        using var coordinator = transport.Open("a", "cf", TransportRole.Scheduler);
        using var agent = transport.Open("a", "cf", TransportRole.Agent);

        Assert.Equal(1, coordinator.Send([TestMessages.Heartbeat(CaptureId.None, "a", 1)]));

        Assert.Equal(new CaptureId("a"), Assert.Single(agent.Receive()).From);
    }

    [Fact(DisplayName = "Self-send: no endpoint for the other role, or a full inbox, refuses exactly those messages")]
    public async Task SelfSend_UnknownEndpointOrFullInbox_Refused()
    {
        await using var transport = Transport(options: new GrpcTransportOptions { InboxCapacity = 2 });
        using var coordinator = transport.Open("a", "cf", TransportRole.Scheduler);
        using var lonely = transport.Open("a", "other", TransportRole.Scheduler);

        Assert.Equal(0, lonely.Send([TestMessages.Heartbeat("a", "a", 1)]));
        using var agent = transport.Open("a", "cf", TransportRole.Agent);
        Assert.Equal(2, coordinator.Send([.. Enumerable.Range(1, 5).Select(table => TestMessages.Heartbeat("a", "a", table))]));

        Assert.Equal(2, agent.Receive().Count);
        var counters = transport.Counters;
        Assert.Equal(1, counters.RejectedUnknownEndpoint);
        Assert.Equal(3, counters.RejectedInboxFull);
        Assert.Equal(2, counters.SelfDelivered);
    }

    [Fact(DisplayName = "Send refuses, one by one and counted: no To, a capture without address, ill-formed, From another capture, closed endpoint")]
    public async Task Send_Refusals_AreCountedPerReason()
    {
        var book = new AddressBook { ["b"] = $"127.0.0.1:{AddressBook.FreePort()}" };
        await using var transport = Transport(book);
        var coordinator = transport.Open("a", "cf", TransportRole.Scheduler);
        var illFormed = new Message { Type = MessageType.Heartbeat, From = "a", To = "b" };
        var messages = new List<Message>
        {
            TestMessages.Heartbeat("a", CaptureId.None, 1),
            TestMessages.Heartbeat("a", "nobody", 2),
            illFormed,
            TestMessages.Heartbeat("z", "b", 3),
            TestMessages.Heartbeat("a", "b", 4),
            TestMessages.Heartbeat(CaptureId.None, "b", 5),
        };

        Assert.Equal(2, coordinator.Send(messages));
        coordinator.Dispose();
        Assert.Equal(0, coordinator.Send([TestMessages.Heartbeat("a", "b", 6)]));

        var counters = transport.Counters;
        Assert.Equal(2, counters.RefusedUnknownPeer);
        Assert.Equal(2, counters.RefusedMalformed);
        Assert.Equal(1, counters.RefusedSenderClosed);
        Assert.Equal(2, counters.Queued);
        Assert.Equal(2, counters.Peer("b")!.Queued);
    }

    [Fact(DisplayName = "Send refuses a message that cannot fit in a frame, and only that one")]
    public async Task Send_Oversize_RefusesOnlyThatMessage()
    {
        const int limit = 64 * 1024;
        var book = new AddressBook { ["b"] = $"127.0.0.1:{AddressBook.FreePort()}" };
        await using var transport = Transport(book, new GrpcTransportOptions { MaxFrameBytes = limit });
        using var coordinator = transport.Open("a", "cf", TransportRole.Scheduler);
        int fits = LargestFitting(limit, "a", "cf");

        int accepted = coordinator.Send([
            TestMessages.BigHeartbeat("a", "b", fits + 1),
            TestMessages.Heartbeat("a", "b", 1),
            TestMessages.BigHeartbeat("a", "b", fits),
        ]);

        Assert.Equal(2, accepted);
        var counters = transport.Counters;
        Assert.Equal(1, counters.RefusedOversize);
        Assert.Equal(1, counters.Peer("b")!.RefusedOversize);
        Assert.Equal(2, counters.Queued);
    }

    [Fact(DisplayName = "Go bug §13 #8: a full send buffer refuses exactly the overflow; the rest of the batch (other peers) is still sent, and Send says how many")]
    public async Task GoBug13_8_FullBuffer_RefusesOnlyTheOverflow()
    {
        // TiCDC's transport returns success and silently drops every remaining message of the batch
        // once one TrySendMessage reports "try again". Here b's buffer overflows mid-batch, and the
        // messages for c after it are still accepted.
        var book = new AddressBook
        {
            ["b"] = $"127.0.0.1:{AddressBook.FreePort()}",
            ["c"] = $"127.0.0.1:{AddressBook.FreePort()}",
        };
        await using var transport = Transport(book, new GrpcTransportOptions { SendBufferCapacity = 100 });
        using var coordinator = transport.Open("a", "cf", TransportRole.Scheduler);
        var batch = new List<Message>();
        batch.AddRange(Enumerable.Range(1, 130).Select(table => TestMessages.Heartbeat("a", "b", table)));
        batch.AddRange(Enumerable.Range(1, 3).Select(table => TestMessages.Heartbeat("a", "c", table)));

        Assert.Equal(103, coordinator.Send(batch));
        Assert.Equal(0, coordinator.Send([TestMessages.Heartbeat("a", "b", 131)]));

        var counters = transport.Counters;
        Assert.Equal(31, counters.RefusedSendBufferFull);
        Assert.Equal(31, counters.Peer("b")!.RefusedSendBufferFull);
        Assert.Equal(100, counters.Peer("b")!.Buffered);
        Assert.Equal(3, counters.Peer("c")!.Buffered);
        Assert.Equal(0, counters.Peer("c")!.RefusedSendBufferFull);
    }

    [Fact(DisplayName = "Dispose with an unreachable peer: returns, counts the buffered messages as dropped, and Send is refused afterwards")]
    public async Task Dispose_UnreachablePeer_DropsAndRefuses()
    {
        var book = new AddressBook { ["b"] = $"127.0.0.1:{AddressBook.FreePort()}" };
        var transport = Transport(book, new GrpcTransportOptions { DisposeTimeout = TimeSpan.FromSeconds(1) });
        var coordinator = transport.Open("a", "cf", TransportRole.Scheduler);
        Assert.Equal(5, coordinator.Send([.. Enumerable.Range(1, 5).Select(table => TestMessages.Heartbeat("a", "b", table))]));

        await transport.DisposeAsync();
        await transport.DisposeAsync();

        Assert.Equal(0, coordinator.Send([TestMessages.Heartbeat("a", "b", 6)]));
        var counters = transport.Counters;
        Assert.Equal(5, counters.DroppedOnDisconnect);
        Assert.Equal(1, counters.RefusedSenderClosed);
        Assert.Empty(counters.Peers);
    }

    [Fact(DisplayName = "A peer that leaves membership: its connection closes, its buffered messages are counted as dropped, and later sends to it are refused")]
    public async Task PeerLeaves_ConnectionClosed_BufferDropped()
    {
        var book = new AddressBook { ["b"] = $"127.0.0.1:{AddressBook.FreePort()}" };
        await using var transport = Transport(book, new GrpcTransportOptions
        {
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(10),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(50),
        });
        using var coordinator = transport.Open("a", "cf", TransportRole.Scheduler);
        Assert.Equal(3, coordinator.Send([.. Enumerable.Range(1, 3).Select(table => TestMessages.Heartbeat("a", "b", table))]));
        await Wait.UntilAsync(() => transport.Counters.ConnectFailures >= 1, () => $"{transport.Counters}");

        book["b"] = null;

        await Wait.UntilAsync(() => transport.Counters.Peers.Count == 0, () => $"{transport.Counters}");
        Assert.Equal(3, transport.Counters.DroppedOnDisconnect);
        Assert.Equal(0, coordinator.Send([TestMessages.Heartbeat("a", "b", 4)]));
        Assert.Equal(1, transport.Counters.RefusedUnknownPeer);
    }

    /// <summary>The most spans a <see cref="TestMessages.BigHeartbeat"/> may list to fit a frame of <paramref name="limit"/> bytes.</summary>
    internal static int LargestFitting(int limit, string from, string changefeed)
    {
        int header = FrameSizing.HeaderBytes(from, changefeed);
        bool Fits(int spans) =>
            header + FrameSizing.MessageBytes(WireMapping.ToWire(TestMessages.BigHeartbeat(from, "b", spans)).CalculateSize()) <= limit;
        int low = 0, high = limit / 32;
        while (low < high)
        {
            int middle = (low + high + 1) / 2;
            if (Fits(middle))
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return low;
    }
}
