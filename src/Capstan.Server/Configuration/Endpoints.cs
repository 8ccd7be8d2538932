namespace Capstan.Server.Configuration;

using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

/// <summary>Parses the <c>host:port</c> settings (<c>addr</c>, <c>http</c> and their advertised forms).</summary>
public static class Endpoints
{
    /// <summary>
    /// A listen address: an IP (v4, or v6 in brackets), <c>localhost</c> (loopback) or <c>0.0.0.0</c>
    /// / <c>[::]</c> (every interface), then <c>:port</c> (0 picks a free port).
    /// </summary>
    public static IPEndPoint ParseListen(string text, string key)
    {
        var (host, port) = Split(text, key);
        IPAddress address;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(host, out address!))
        {
            throw new SettingsException($"{key}: '{text}' must listen on an IP address, localhost or 0.0.0.0 (host names are for advertise-*)");
        }

        return new IPEndPoint(address, port);
    }

    /// <summary>An advertised address: any host name or IP, then <c>:port</c> (1..65535, or 0 = the bound port).</summary>
    public static (string Host, int Port) ParseAdvertised(string text, string key)
    {
        var (host, port) = Split(text, key);
        if (host.Length == 0 || (!IPAddress.TryParse(host, out _) && Uri.CheckHostName(host) == UriHostNameType.Unknown))
        {
            throw new SettingsException($"{key}: '{text}' names no host peers can dial");
        }

        return (host, port);
    }

    /// <summary>True for 0.0.0.0 and ::, which peers cannot dial.</summary>
    public static bool IsUnspecified(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);

    /// <summary>host:port, with brackets around an IPv6 host.</summary>
    public static string Join(string host, int port) =>
        (host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host) + ":" + port.ToString(CultureInfo.InvariantCulture);

    private static (string Host, int Port) Split(string text, string key)
    {
        var trimmed = text.Trim();
        if (trimmed.Contains("://", StringComparison.Ordinal))
        {
            throw new SettingsException($"{key}: '{text}' must be host:port, without a scheme");
        }

        int colon = trimmed.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(trimmed.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65_535)
        {
            throw new SettingsException($"{key}: '{text}' must be host:port with a port in 0..65535");
        }

        var host = trimmed[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        return (host, port);
    }
}

/// <summary>What a capture id may look like (the API's id rule, so ids work in URLs).</summary>
public static partial class CaptureIds
{
    /// <summary>The rule, for error messages.</summary>
    public const string Rule = "must be letters and digits in dash-separated groups (e.g. capture-1), at most 128 characters";

    /// <summary>True when <paramref name="id"/> follows <see cref="Rule"/>.</summary>
    public static bool IsValid(string id) => id.Length is > 0 and <= 128 && Pattern().IsMatch(id);

    /// <summary>A fresh id: a UUID (as TiCDC does).</summary>
    public static string Generate() => Guid.NewGuid().ToString();

    [GeneratedRegex("^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
