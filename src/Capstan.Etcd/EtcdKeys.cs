namespace Capstan.Etcd;

using System.Globalization;
using System.Text;
using Capstan.Core.Model;
using Google.Protobuf;

/// <summary>
/// The key layout of one cluster:
/// <code>
/// /{prefix}/captures/{captureId}          capture registration (JSON), attached to its session lease
/// /{prefix}/owner/{leaseIdHex}            owner campaign keys; the smallest create revision is the owner
/// /{prefix}/changefeed/info/{id}          changefeed definition (JSON)
/// /{prefix}/changefeed/status/{id}        changefeed status (JSON), written only by the owner
/// </code>
/// </summary>
internal sealed class EtcdKeys
{
    public EtcdKeys(string clusterPrefix)
    {
        var root = "/" + clusterPrefix.Trim('/') + "/";
        CapturesPrefix = root + "captures/";
        OwnerPrefix = root + "owner/";
        ChangefeedInfoPrefix = root + "changefeed/info/";
        ChangefeedStatusPrefix = root + "changefeed/status/";
    }

    public string CapturesPrefix { get; }

    public string OwnerPrefix { get; }

    public string ChangefeedInfoPrefix { get; }

    public string ChangefeedStatusPrefix { get; }

    public string Capture(CaptureId id) => CapturesPrefix + id.Value;

    public string Owner(long leaseId) => OwnerPrefix + leaseId.ToString("x", CultureInfo.InvariantCulture);

    public string ChangefeedInfo(ChangefeedId id) => ChangefeedInfoPrefix + id.Value;

    public string ChangefeedStatus(ChangefeedId id) => ChangefeedStatusPrefix + id.Value;

    public static ByteString Bytes(string key) => ByteString.CopyFromUtf8(key);

    /// <summary>The range end that covers every key starting with <paramref name="prefix"/>.</summary>
    public static ByteString RangeEnd(string prefix)
    {
        var bytes = Encoding.UTF8.GetBytes(prefix);
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            if (bytes[i] < 0xff)
            {
                bytes[i]++;
                return ByteString.CopyFrom(bytes, 0, i + 1);
            }
        }

        return ByteString.CopyFrom(0); // all keys
    }
}
