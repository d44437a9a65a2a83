// The robot's real body: a URDF arm's visual meshes (/api/arm's "meshes", each file served at its
// "url" by the server), read with three.js's own loaders (STL, COLLADA, glTF, OBJ) and placed as
// the URDF says: in the link's chain frame, at the <visual> origin, scaled by the <mesh> scale.
// The files are read as deepik's geometry layer reads them (assimp), so the drawn mesh is the one
// the collision checks see:
// - COLLADA: as written, whatever its up_axis (ROS tools ignore it, and so does the geometry layer
//   with AI_CONFIG_IMPORT_COLLADA_IGNORE_UP_DIRECTION): three's ColladaLoader turns a Z_UP scene
//   by -90 deg about x, which is undone here; the unit declaration (the scene's scale) is kept.
// - glTF: y up by its specification, so the scene is turned +90 deg about x into the link's z-up
//   frame (ur5's glTF files then coincide with its OBJ collision meshes,
//   which the browser test checks through the sphere model fitted to those).
// - STL and OBJ: plain vertices.
import * as THREE from 'three';
import { STLLoader } from 'three/addons/loaders/STLLoader.js';
import { ColladaLoader } from 'three/addons/loaders/ColladaLoader.js';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { OBJLoader } from 'three/addons/loaders/OBJLoader.js';

const plainMaterial = new THREE.MeshStandardMaterial({ color: 0xc9d1dc, metalness: 0.25, roughness: 0.45 });

// The loaded file's object, in the mesh's own frame (before the URDF scale and origin).
async function loadObject(entry) {
  if (entry.format === 'stl') {
    const geometry = await new STLLoader().loadAsync(entry.url);
    if (!geometry.hasAttribute('normal')) geometry.computeVertexNormals();
    return new THREE.Mesh(geometry, plainMaterial);
  }
  if (entry.format === 'dae') {
    const collada = await new ColladaLoader().loadAsync(entry.url);
    if (!collada || !collada.scene) throw new Error('not a COLLADA file');
    collada.scene.rotation.set(0, 0, 0);  // the file's z is the link's z (see above)
    return collada.scene;
  }
  if (entry.format === 'gltf' || entry.format === 'glb') {
    const yUp = new THREE.Group();
    yUp.add((await new GLTFLoader().loadAsync(entry.url)).scene);
    yUp.rotation.x = Math.PI / 2;  // glTF's y up -> the link's z up
    return yUp;
  }
  if (entry.format === 'obj') {
    const group = await new OBJLoader().loadAsync(entry.url);
    group.traverse((o) => { if (o.isMesh) o.material = plainMaterial; });
    return group;
  }
  throw new Error(`format '${entry.format}' is not drawn`);
}

// A holder at the mesh's pose in its chain frame, with the URDF scale; the file's object is added
// to it once loaded. `onDone(ok)` is called when the file has loaded (true) or failed (false).
export function makeLinkMesh(entry, onDone) {
  const holder = new THREE.Group();
  const [w, x, y, z] = entry.origin.quat;
  holder.position.set(...entry.origin.p);
  holder.quaternion.set(x, y, z, w);
  holder.scale.set(...entry.scale);
  holder.name = `mesh ${entry.link}`;
  holder.userData = { link: entry.link, loaded: false };
  loadObject(entry).then((object) => {
    holder.add(object);
    holder.userData.loaded = true;
    onDone(true);
  }, (err) => {
    console.warn(`deepik: mesh of link '${entry.link}' (${entry.url}) not drawn: ${err.message || err}`);
    onDone(false);
  });
  return holder;
}
