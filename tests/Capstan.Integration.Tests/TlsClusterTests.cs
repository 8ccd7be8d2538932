namespace Capstan.Integration.Tests;

using Capstan.Integration.Tests.Support;
using Xunit.Abstractions;

/// <summary>Captures talking mutual TLS over gRPC and serving HTTPS, configured with certificate files.</summary>
[Trait("Category", "Integration")]
public sealed class TlsClusterTests(EtcdServer etcd, ITestOutputHelper output) : IClassFixture<EtcdServer>
{
    [Fact(DisplayName = "TLS: two captures with certificate files (mutual TLS between them, HTTPS API) replicate a changefeed across both")]
    public async Task MutualTls_TwoCaptures_Replicate()
    {
        using var certificates = new TestCertificates();
        using var https = certificates.TrustingHandler();
        await using var cluster = new CapstanCluster(etcd, output) { Https = https };
        cluster.Environment["CAPSTAN_TLS__CERT"] = certificates.CertPath;
        cluster.Environment["CAPSTAN_TLS__KEY"] = certificates.KeyPath;
        cluster.Environment["CAPSTAN_TLS__CA"] = certificates.CaPath;

        await cluster.StartAllAsync("t1", "t2");
        var url = cluster["t2"].HttpUrl.ToString();
        var untrusted = await Cli.RunAsync("changefeed", "list", "--server", url);
        Assert.Equal(1, untrusted.ExitCode);
        var created = await Cli.RunAsync("changefeed", "create", "--server", url, "--ca", certificates.CaPath, "--id", CapstanCluster.Changefeed, "--tables", "1-200");
        Assert.True(created.ExitCode == 0, created.Output);
        await cluster.WaitUntilBalancedAsync(200, ["t1", "t2"], TimeSpan.FromSeconds(120));

        // An owner-only read through the capture that is not the owner: forwarded over HTTPS, trusting the CA.
        var owner = (await cluster.OwnerStatusAsync())!.CaptureId;
        var other = cluster[owner == "t1" ? "t2" : "t1"];
        using var table = await other.Http.GetAsync($"api/v2/changefeeds/{CapstanCluster.Changefeed}/tables/1");
        Assert.True(table.IsSuccessStatusCode, $"{(int)table.StatusCode}: {await table.Content.ReadAsStringAsync()}");

        var statuses = await cluster.StatusesAsync();
        Assert.All(statuses, status => Assert.StartsWith("https://", status.HttpUrl, StringComparison.Ordinal));
        Assert.All(statuses, status => Assert.True(status.Transport!.SentMessages > 0 && status.Transport.Received > 0,
            $"{status.CaptureId} exchanged messages over the TLS transport"));
    }
}
