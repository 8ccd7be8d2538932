namespace Capstan.Transport.Grpc.Tests;

using Capstan.Runtime.Transport;
using Capstan.Transport.Grpc.Tests.Support;

[Trait("Category", "Integration")]
public sealed class TlsTests
{
    private static readonly GrpcTransportOptions Fast = new()
    {
        ReconnectInitialDelay = TimeSpan.FromMilliseconds(20),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
    };

    [Fact(DisplayName = "Mutual TLS: captures with certificates of one CA exchange messages both ways over https")]
    public async Task MutualTls_SameCa_MessagesFlowBothWays()
    {
        using var certificates = TestCertificates.Create("one");
        var options = Fast with { Tls = certificates.Tls };
        var book = new AddressBook();
        await using var a = CaptureNode.Create("a", book, options);
        var coordinatorInbox = a.OpenInbox("cf", TransportRole.Scheduler);
        await a.StartAsync();
        await using var b = CaptureNode.Create("b", book, options);
        var agentInbox = b.OpenInbox("cf", TransportRole.Agent);
        await b.StartAsync();

        Assert.StartsWith("https://", b.Address, StringComparison.Ordinal);
        Assert.Equal(1, coordinatorInbox.Endpoint.Send([TestMessages.Heartbeat("a", "b", 1)]));
        Assert.Equal(1, agentInbox.Endpoint.Send([TestMessages.Response("b", "a", 1)]));

        await agentInbox.WaitForAsync(1);
        await coordinatorInbox.WaitForAsync(1);
        Assert.Equal(TestMessages.Heartbeat("a", "b", 1), agentInbox.All[0]);
    }

    [Theory(DisplayName = "Mutual TLS: a capture whose certificate comes from another CA cannot connect; nothing is delivered")]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MutualTls_OtherCa_Refused(bool intruderTrustsOurCa)
    {
        using var ours = TestCertificates.Create("ours");
        using var theirs = TestCertificates.Create("theirs");
        var book = new AddressBook();
        await using var b = CaptureNode.Create("b", book, Fast with { Tls = ours.Tls });
        var inbox = b.OpenInbox("cf", TransportRole.Agent);
        await b.StartAsync();
        // Trusting our CA, the intruder accepts b's certificate, and b's server must refuse the intruder's.
        var intruderTls = intruderTrustsOurCa ? theirs.Tls with { CaPemPath = ours.CaPath } : theirs.Tls;
        await using var intruder = await CaptureNode.StartAsync("x", book, Fast with { Tls = intruderTls });

        Assert.Equal(1, intruder.Open("cf", TransportRole.Scheduler).Send([TestMessages.Heartbeat("x", "b", 1)]));

        await Wait.UntilAsync(() => intruder.Transport.Counters.ConnectFailures >= 2, () => $"{intruder.Transport.Counters}");
        Assert.Equal(0, inbox.Count);
        Assert.Equal(0, b.Transport.Counters.ReceivedFrames);
    }
}
