namespace Capstan.Api.Hosting;

using Capstan.Runtime.Hosting;

/// <summary>
/// The API of a whole <see cref="EmbeddedCluster"/> on one endpoint (<c>capstan demo --http</c>):
/// every capture is local, so whichever capture is the owner handles owner-only requests here and
/// nothing is forwarded.
/// </summary>
public static class EmbeddedClusterApiContext
{
    /// <summary>Creates the context of <paramref name="cluster"/>.</summary>
    public static ICaptureApiContext Create(EmbeddedCluster cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        return new CaptureNodeApiContext(cluster.Services, () => cluster.Captures, _ => null, () => TransportReadings.Of(cluster.Transport.Counters));
    }
}
