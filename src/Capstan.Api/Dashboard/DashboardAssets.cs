namespace Capstan.Api.Dashboard;

using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

/// <summary>
/// The dashboard's static files (HTML, JS, CSS), embedded in this assembly so that any host
/// serves them without a wwwroot folder or a CDN.
/// </summary>
internal static class DashboardAssets
{
    private const string Prefix = "dashboard/";

    private static readonly Lazy<FrozenDictionary<string, Asset>> Assets = new(Load);

    /// <summary>A file's bytes, content type and ETag.</summary>
    internal sealed record Asset(byte[] Bytes, string ContentType, string ETag);

    /// <summary>The names of the embedded files.</summary>
    public static IEnumerable<string> Names => Assets.Value.Keys;

    /// <summary>Serves one file (304 when the ETag matches; 404 when absent).</summary>
    public static IResult Serve(HttpContext http, string name)
    {
        if (!Assets.Value.TryGetValue(name, out var asset))
        {
            return TypedResults.NotFound();
        }

        http.Response.Headers.ETag = asset.ETag;
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        if (name.EndsWith(".html", StringComparison.Ordinal))
        {
            http.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'";
        }

        if (http.Request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return TypedResults.Bytes(asset.Bytes, asset.ContentType);
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var result = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(Prefix, StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            string etag = "\"" + Convert.ToHexString(SHA256.HashData(bytes).AsSpan(0, 8)) + "\"";
            result[resource[Prefix.Length..]] = new Asset(bytes, ContentTypeOf(resource), etag);
        }

        return result.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".ico" => "image/x-icon",
        ".json" => "application/json",
        _ => "application/octet-stream",
    };
}
