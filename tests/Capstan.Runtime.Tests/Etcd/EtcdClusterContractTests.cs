namespace Capstan.Runtime.Tests.Etcd;

using Capstan.Etcd;
using Capstan.Runtime.Tests.Contracts;
using Capstan.Runtime.Tests.Support;
using Xunit.Abstractions;

/// <summary>The contract, against a real etcd (one per class; one key prefix per test).</summary>
[Trait("Category", "Integration")]
public sealed class EtcdClusterContractTests(EtcdServer server, ITestOutputHelper output) : ClusterContractTests, IClassFixture<EtcdServer>
{
    private readonly TestLogger _logger = new(output);

    /// <inheritdoc/>
    protected override Task<IClusterHarness> CreateHarnessAsync() =>
        Task.FromResult<IClusterHarness>(new EtcdHarness(server, new EtcdClusterOptions
        {
            ClusterPrefix = "contract",
            SessionTtl = TimeSpan.FromSeconds(5),
            MaxStatusWriteAttempts = 100,
            Logger = _logger,
        }));
}
