namespace Capstan.Etcd;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

/// <summary>Settings shared by the etcd-backed membership, owner election and metadata store.</summary>
public sealed record EtcdClusterOptions
{
    /// <summary>The cluster's key prefix: keys live under <c>/{ClusterPrefix}/</c>. Several clusters can share one etcd.</summary>
    public string ClusterPrefix { get; init; } = "capstan";

    /// <summary>Lease TTL of a capture session: how long a dead or cut-off capture stays registered. Whole seconds, 1–600.</summary>
    public TimeSpan SessionTtl { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Deadline of each etcd call (the gRPC retries of the client happen within it). 0.1–60 s.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>First wait after a failed call or broken stream; doubles up to <see cref="MaxRetryBackoff"/>.</summary>
    public TimeSpan InitialRetryBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest wait between retries.</summary>
    public TimeSpan MaxRetryBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a status write is retried when the status changed between read and write. 1–100.</summary>
    public int MaxStatusWriteAttempts { get; init; } = 5;

    /// <summary>Where sessions report faults, recoveries and loss.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when a setting is out of range.</summary>
    public void Validate()
    {
        var prefix = ClusterPrefix.Trim('/');
        if (prefix.Length == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ClusterPrefix), ClusterPrefix, "the cluster prefix must not be empty");
        }

        CheckRange(nameof(SessionTtl), SessionTtl, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(600));
        if (SessionTtl.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(SessionTtl), SessionTtl, "etcd lease TTLs are whole seconds");
        }

        CheckRange(nameof(CallTimeout), CallTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(60));
        CheckRange(nameof(InitialRetryBackoff), InitialRetryBackoff, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(10));
        CheckRange(nameof(MaxRetryBackoff), MaxRetryBackoff, InitialRetryBackoff, TimeSpan.FromSeconds(60));
        if (MaxStatusWriteAttempts is < 1 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxStatusWriteAttempts), MaxStatusWriteAttempts, "expected 1–100");
        }

        ArgumentNullException.ThrowIfNull(Logger);
    }

    private static void CheckRange(string name, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"expected {min}–{max}");
        }
    }
}
