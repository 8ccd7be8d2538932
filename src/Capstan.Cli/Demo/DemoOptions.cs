namespace Capstan.Cli.Demo;

/// <summary>Settings of <c>capstan demo</c>.</summary>
public sealed record DemoOptions
{
    /// <summary>The defaults: 3 captures, one changefeed of 1,000 tables.</summary>
    public static readonly DemoOptions Defaults = new();

    /// <summary>Captures to start with.</summary>
    public int Captures { get; init; } = 3;

    /// <summary>Tables in the changefeed.</summary>
    public int Tables { get; init; } = 1_000;

    /// <summary>Seed of everything random.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Time budget of the whole scenario (simulated time with <see cref="Fast"/>).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>Run on fake time as fast as possible.</summary>
    public bool Fast { get; init; }

    /// <summary>Keep running after the scenario until cancelled.</summary>
    public bool Interactive { get; init; }

    /// <summary>Serve the HTTP API and the dashboard of the embedded cluster on 127.0.0.1 at this port (0: any free port); null: no HTTP.</summary>
    public int? HttpPort { get; init; }

    /// <summary>A message naming the first invalid setting, or null.</summary>
    public string? Validate()
    {
        if (Captures is < 1 or > 64)
        {
            return "--captures must be in 1..64";
        }

        if (Tables is < 1 or > 1_000_000)
        {
            return "--tables must be in 1..1000000";
        }

        if (Duration <= TimeSpan.Zero || Duration > TimeSpan.FromHours(24))
        {
            return "--duration must be positive and at most 24 hours";
        }

        if (HttpPort is < 0 or > 65_535)
        {
            return "--http must be a port in 0..65535";
        }

        return null;
    }
}
