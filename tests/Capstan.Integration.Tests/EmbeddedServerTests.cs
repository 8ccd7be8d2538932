namespace Capstan.Integration.Tests;

using Capstan.Integration.Tests.Support;
using Capstan.Protocol.Transport;
using Grpc.Core;
using Google.Protobuf;
using Xunit.Abstractions;

/// <summary>One <c>capstan server</c> on the embedded default (no etcd): the receiver's robustness and the CLI.</summary>
[Trait("Category", "Integration")]
public sealed class EmbeddedServerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact(DisplayName = "Malformed gRPC frames and oversized messages are rejected (acked or stream closed) and counted; the receiver keeps replicating")]
    public async Task MalformedAndOversizedFrames_Rejected_ReceiverSurvives()
    {
        await using var cluster = new CapstanCluster(null, output);
        cluster.Environment["CAPSTAN_TRANSPORT__MAX_FRAME_BYTES"] = "65536";
        var server = await cluster.StartAsync("solo");
        await cluster.CreateChangefeedAsync("1-20");
        await cluster.WaitUntilAsync(async () => CapstanCluster.AllReplicatingOn(await cluster.OwnerStatusAsync(), 20, ["solo"]), Patience, "20 tables replicate");

        using var injector = new FrameInjector(server.GrpcPort);
        var badRole = new Frame { FromCapture = "x", Changefeed = CapstanCluster.Changefeed, Role = (Role)7, Sequence = 1 };
        badRole.Messages.Add(FrameInjector.Heartbeat("x", "solo"));
        var wrongSender = new Frame { FromCapture = "x", Changefeed = CapstanCluster.Changefeed, Role = Role.Agent, Sequence = 2 };
        wrongSender.Messages.Add(FrameInjector.Heartbeat("y", "solo"));
        var wrongReceiver = new Frame { FromCapture = "x", Changefeed = CapstanCluster.Changefeed, Role = Role.Agent, Sequence = 3 };
        wrongReceiver.Messages.Add(FrameInjector.Heartbeat("x", "someone-else"));
        var acks = await injector.SendAsync(badRole, wrongSender, wrongReceiver);
        Assert.Equal([(0, 1), (0, 1), (0, 1)], acks.Select(ack => (ack.Accepted, ack.Rejected)));

        var garbage = await injector.SendRawAsync([0x0A, 0x7F, 0x01]);
        Assert.Equal(StatusCode.InvalidArgument, garbage?.StatusCode);

        var huge = new Frame { FromCapture = "x", Changefeed = CapstanCluster.Changefeed, Role = Role.Agent, Sequence = 4 };
        for (int i = 0; i < 4000; i++)
        {
            huge.Messages.Add(FrameInjector.Heartbeat("x", "solo"));
        }

        Assert.True(huge.CalculateSize() > 65536);
        var oversize = await injector.SendRawAsync(huge.ToByteArray());
        Assert.NotNull(oversize);
        output.WriteLine($"oversized frame ({huge.CalculateSize()} bytes) ended the stream with {oversize!.StatusCode}: {oversize.Status.Detail}");

        Assert.Equal(200, await server.HealthAsync());
        Assert.False(server.HasExited);
        var status = (await server.StatusAsync())!;
        Assert.True(status.Transport!.RejectedBadFrames >= 3, $"bad frames counted: {status.Transport.RejectedBadFrames}");
        Assert.True(status.Transport.RejectedMalformed >= 3, $"malformed messages counted: {status.Transport.RejectedMalformed}");
        var checkpoint = (await cluster.ChangefeedAsync())!.CheckpointTs;
        await cluster.WaitUntilAsync(async () => (await cluster.ChangefeedAsync())!.CheckpointTs > checkpoint, Patience, "the checkpoint still advances");
        Assert.True(CapstanCluster.AllReplicatingOn(await cluster.OwnerStatusAsync(), 20, ["solo"]));
    }

    [Fact(DisplayName = "capstan changefeed create/list/remove against a running server; bad input and duplicates are refused with a reason")]
    public async Task ChangefeedCli_CreateListRemove_RefusesBadInput()
    {
        await using var cluster = new CapstanCluster(null, output);
        var server = await cluster.StartAsync("solo");
        var url = server.HttpUrl.ToString();

        var created = await Cli.RunAsync("changefeed", "create", "--server", url, "--id", "cf1", "--tables", "1-100,200");
        Assert.True(created.ExitCode == 0, created.Output);
        Assert.Contains("101 tables (1-100,200)", created.Output, StringComparison.Ordinal);
        await cluster.WaitUntilAsync(async () => CapstanCluster.AllReplicatingOn(await cluster.OwnerStatusAsync(), 101, ["solo"]), Patience, "101 tables replicate");

        var duplicate = await Cli.RunAsync("changefeed", "create", "--server", url, "--id", "cf1", "--tables", "1-5");
        Assert.Equal(1, duplicate.ExitCode);
        Assert.Contains("already exists", duplicate.Output, StringComparison.Ordinal);
        var badTables = await Cli.RunAsync("changefeed", "create", "--server", url, "--id", "cf2", "--tables", "5-1");
        Assert.Equal(1, badTables.ExitCode);
        Assert.Contains("ends before it starts", badTables.Output, StringComparison.Ordinal);
        var badId = await Cli.RunAsync("changefeed", "create", "--server", url, "--id", "cf 2", "--tables", "1");
        Assert.Equal(1, badId.ExitCode);
        Assert.Contains("400", badId.Output, StringComparison.Ordinal);

        var list = await Cli.RunAsync("changefeed", "list", "--server", url);
        Assert.True(list.ExitCode == 0, list.Output);
        Assert.Contains("cf1", list.Output, StringComparison.Ordinal);
        Assert.Contains("101", list.Output, StringComparison.Ordinal);

        var removed = await Cli.RunAsync("changefeed", "remove", "--server", url, "--id", "cf1");
        Assert.True(removed.ExitCode == 0, removed.Output);
        await cluster.WaitUntilAsync(async () => (await server.StatusAsync())?.Agents.Count == 0, Patience, "the agent of the removed changefeed is gone");
        var unreachable = await Cli.RunAsync("changefeed", "list", "--server", $"http://127.0.0.1:{Repository.FreePort()}");
        Assert.Equal(1, unreachable.ExitCode);
        Assert.Contains("cannot reach", unreachable.Output, StringComparison.Ordinal);
    }

    [Fact(DisplayName = "Bad settings stop the server at once with a message naming the key and where it came from (exit code 2)")]
    public async Task BadSettings_ExitTwo_NamingKeyAndSource()
    {
        var ttl = await Cli.RunWithAsync(("CAPSTAN_SESSION_TTL", "1.5s"), "server");
        Assert.Equal(2, ttl.ExitCode);
        Assert.Contains("session-ttl", ttl.Output, StringComparison.Ordinal);
        var unit = await Cli.RunWithAsync(null, "server", "--graceful-shutdown-timeout", "30");
        Assert.Equal(2, unit.ExitCode);
        Assert.Contains("--graceful-shutdown-timeout", unit.Output, StringComparison.Ordinal);
        var anywhere = await Cli.RunWithAsync(null, "server", "--addr", "0.0.0.0:0");
        Assert.Equal(2, anywhere.ExitCode);
        Assert.Contains("advertise-addr", anywhere.Output, StringComparison.Ordinal);
    }
}
