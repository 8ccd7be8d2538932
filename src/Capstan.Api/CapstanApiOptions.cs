namespace Capstan.Api;

/// <summary>Settings of the operator surface. Every limit has a checked range (<see cref="Validate"/>).</summary>
public sealed class CapstanApiOptions
{
    /// <summary>Header naming the capture that forwarded a request to the owner.</summary>
    public const string ForwardedFromHeader = "X-Capstan-Forwarded-From";

    /// <summary>Header counting how many times a request was forwarded.</summary>
    public const string ForwardCountHeader = "X-Capstan-Forward-Count";

    /// <summary>
    /// Bearer token that mutating endpoints require (401 otherwise); null or empty disables auth.
    /// Every capture of a cluster must use the same token (forwarded requests carry it along).
    /// </summary>
    public string? Token { get; set; }

    /// <summary>With a token: read endpoints require it too.</summary>
    public bool ProtectReads { get; set; }

    /// <summary>With a token: /metrics requires it too.</summary>
    public bool ProtectMetrics { get; set; }

    /// <summary>How many times a request may be forwarded towards the owner (TiCDC: 2; 0..5).</summary>
    public int MaxForwardHops { get; set; } = 2;

    /// <summary>Timeout of one forwarded request (100 ms..5 min).</summary>
    public TimeSpan ForwardTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Timeout of one command or read posted to an owner loop (100 ms..5 min).</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest request body accepted (1 KiB..64 MiB).</summary>
    public int MaxBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Most tables one page of <c>GET …/tables</c> returns (1..1,000,000).</summary>
    public int MaxTablesPerPage { get; set; } = 200_000;

    /// <summary>Name of the <see cref="System.Diagnostics.Metrics.Meter"/> of the capstan_* series (shown as otel_scope_name).</summary>
    public string MeterName { get; set; } = "Capstan";

    /// <summary>Period of the metrics collection that feeds histograms (TiCDC: 10 s; 100 ms..10 min).</summary>
    public TimeSpan MetricsInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Period of the activity monitor that builds the scheduling timeline (10 ms..1 min).</summary>
    public TimeSpan ActivityInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Timeline events kept (16..1,000,000).</summary>
    public int ActivityCapacity { get; set; } = 4_096;

    /// <summary>Serve the dashboard at /.</summary>
    public bool EnableDashboard { get; set; } = true;

    /// <summary>True when a token is configured.</summary>
    public bool AuthEnabled => !string.IsNullOrEmpty(Token);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of range.</summary>
    public CapstanApiOptions Validate()
    {
        Check(MaxForwardHops is >= 0 and <= 5, nameof(MaxForwardHops), MaxForwardHops, "0..5");
        Check(ForwardTimeout >= TimeSpan.FromMilliseconds(100) && ForwardTimeout <= TimeSpan.FromMinutes(5), nameof(ForwardTimeout), ForwardTimeout, "100 ms..5 min");
        Check(CommandTimeout >= TimeSpan.FromMilliseconds(100) && CommandTimeout <= TimeSpan.FromMinutes(5), nameof(CommandTimeout), CommandTimeout, "100 ms..5 min");
        Check(MaxBodyBytes is >= 1024 and <= 64 * 1024 * 1024, nameof(MaxBodyBytes), MaxBodyBytes, "1 KiB..64 MiB");
        Check(MaxTablesPerPage is >= 1 and <= 1_000_000, nameof(MaxTablesPerPage), MaxTablesPerPage, "1..1000000");
        Check(MetricsInterval >= TimeSpan.FromMilliseconds(100) && MetricsInterval <= TimeSpan.FromMinutes(10), nameof(MetricsInterval), MetricsInterval, "100 ms..10 min");
        Check(ActivityInterval >= TimeSpan.FromMilliseconds(10) && ActivityInterval <= TimeSpan.FromMinutes(1), nameof(ActivityInterval), ActivityInterval, "10 ms..1 min");
        Check(ActivityCapacity is >= 16 and <= 1_000_000, nameof(ActivityCapacity), ActivityCapacity, "16..1000000");
        Check(!string.IsNullOrWhiteSpace(MeterName), nameof(MeterName), MeterName, "a non-empty name");
        return this;
    }

    private static void Check(bool ok, string name, object value, string range)
    {
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be {range}");
        }
    }
}
