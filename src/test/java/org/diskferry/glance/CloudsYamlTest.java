package org.diskferry.glance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.diskferry.error.DiskferryException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** clouds.yaml discovery and merging as openstacksdk does it. */
class CloudsYamlTest {

  @TempDir Path dir;

  Map<String, String> home() {
    Map<String, String> env = new HashMap<>();
    env.put("HOME", dir.resolve("home").toString());
    return env;
  }

  CloudsYaml yaml(Map<String, String> env) {
    return new CloudsYaml(env, dir.resolve("cwd"), dir.resolve("etc"));
  }

  @Test
  void searchOrderSecureMergeAndDefaults() throws Exception {
    Path user = Files.createDirectories(dir.resolve("home/.config/openstack"));
    Path etc = Files.createDirectories(dir.resolve("etc"));
    Files.writeString(etc.resolve("clouds.yaml"), "clouds:\n  prod:\n    auth:\n"
        + "      auth_url: https://etc.example\n");
    Files.writeString(user.resolve("clouds.yml"), "clouds:\n  prod:\n    region_name: R1\n"
        + "    interface: internalURL\n    cacert: ca.pem\n    auth:\n"
        + "      auth_url: https://keystone.example:5000\n      username: admin\n"
        + "      project_name: ops\n      project_domain_id: d1\n");
    Files.writeString(user.resolve("secure.yaml"), "clouds:\n  prod:\n    auth:\n"
        + "      password: hunter2\n");
    CloudConfig c = yaml(home()).resolve("prod");
    assertThat(c.authUrl()).isEqualTo("https://keystone.example:5000");
    assertThat(c.password()).isEqualTo("hunter2");
    assertThat(c.userDomain().name()).isEqualTo("Default");
    assertThat(c.projectDomain().id()).isEqualTo("d1");
    assertThat(c.endpointInterface()).isEqualTo("internal");
    assertThat(c.cacert()).isEqualTo(user.resolve("ca.pem"));
    assertThat(c.verify()).isTrue();
    assertThat(c.method()).isEqualTo("password");
    assertThat(c.source()).contains("clouds.yml").contains("secure.yaml");
    assertThat(c.toString()).doesNotContain("hunter2");
  }

  @Test
  void unknownCloudListsTheOnesFound() throws Exception {
    Path f = dir.resolve("c.yaml");
    Files.writeString(f, "clouds:\n  a:\n    auth_type: none\n  b:\n    verify: false\n");
    Map<String, String> env = home();
    env.put("OS_CLIENT_CONFIG_FILE", f.toString());
    assertThatThrownBy(() -> yaml(env).resolve("x"))
        .isInstanceOfSatisfying(DiskferryException.class, e -> {
          assertThat(e.kind()).isEqualTo(DiskferryException.Kind.BAD_INPUT);
          assertThat(e.getMessage()).isEqualTo(
              "cloud 'x' is not in " + f + "; clouds there: a, b");
        });
    assertThat(yaml(env).resolve("b").verify()).isFalse();
  }

  @Test
  void noFileNamesWhereItLooked() {
    assertThatThrownBy(() -> yaml(home()).resolve("x"))
        .isInstanceOfSatisfying(DiskferryException.class, e -> {
          assertThat(e.kind()).isEqualTo(DiskferryException.Kind.BAD_INPUT);
          assertThat(e.getMessage()).contains("no clouds.yaml found")
              .contains(dir.resolve("cwd/clouds.yaml").toString())
              .contains(dir.resolve("home/.config/openstack/clouds.yaml").toString());
        });
  }

  @Test
  void envvarsCloudFromOsVariables() {
    Map<String, String> env = home();
    env.put("OS_AUTH_URL", "https://k.example/v3");
    env.put("OS_AUTH_TYPE", "v3applicationcredential");
    env.put("OS_APPLICATION_CREDENTIAL_ID", "id1");
    env.put("OS_APPLICATION_CREDENTIAL_SECRET", "shh");
    env.put("OS_REGION_NAME", "R3");
    CloudConfig c = yaml(env).resolve(CloudsYaml.ENVVARS);
    assertThat(c.method()).isEqualTo("application_credential");
    assertThat(c.appCredentialId()).isEqualTo("id1");
    assertThat(c.regionName()).isEqualTo("R3");
    assertThat(c.endpointInterface()).isEqualTo("public");
    assertThat(KeystoneClient.v3("https://k.example/")).isEqualTo("https://k.example/v3");
    assertThat(KeystoneClient.v3(c.authUrl())).isEqualTo("https://k.example/v3");
  }

  @Test
  void malformedYamlIsOneLine() throws Exception {
    Path f = dir.resolve("bad.yaml");
    Files.writeString(f, "clouds:\n  a: [unclosed\n");
    Map<String, String> env = home();
    env.put("OS_CLIENT_CONFIG_FILE", f.toString());
    assertThatThrownBy(() -> yaml(env).resolve("a"))
        .isInstanceOfSatisfying(DiskferryException.class, e -> {
          assertThat(e.kind()).isEqualTo(DiskferryException.Kind.BAD_INPUT);
          assertThat(e.getMessage()).startsWith("cannot read " + f).doesNotContain("\n");
        });
  }

  @Test
  void aSecretInAFileOthersCanReadGetsAWarning() throws Exception {
    Path f = dir.resolve("shared-clouds.yaml");
    Files.writeString(f, "clouds:\n  p:\n    auth:\n      auth_url: https://k:5000/v3\n"
        + "      username: u\n      password: s3cret\n      project_name: x\n"
        + "  open:\n    auth_type: none\n    image_endpoint_override: http://127.0.0.1:9\n");
    Map<String, String> env = home();
    env.put("OS_CLIENT_CONFIG_FILE", f.toString());
    java.util.List<String> warned = new java.util.ArrayList<>();
    Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    yaml(env).resolve("p", warned::add);
    assertThat(warned).containsExactly(
        f + " holds a password and is readable by others; chmod 600 " + f);
    warned.clear();
    yaml(env).resolve("open", warned::add); // no secret in this cloud: nothing to say
    assertThat(warned).isEmpty();
    Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    yaml(env).resolve("p", warned::add);
    assertThat(warned).isEmpty();
  }
}
