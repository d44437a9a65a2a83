// Forward kinematics in the page, from /api/arm: the arm is drawn from joint values alone, so
// the animation can interpolate q and draw every frame without asking the server.
import * as THREE from 'three';

// A pose from the API ({ p: [x, y, z], quat: [w, x, y, z] }) as a 4x4 matrix.
function toMatrix(pose) {
  const [w, x, y, z] = pose.quat;
  return new THREE.Matrix4().compose(
    new THREE.Vector3(...pose.p), new THREE.Quaternion(x, y, z, w), new THREE.Vector3(1, 1, 1));
}

export function makeKinematics(arm) {
  const joints = arm.joints.map((j) => ({
    ...j, X_PJ: toMatrix(j.origin), axisVec: new THREE.Vector3(...j.axis).normalize(),
  }));
  const X_LT = toMatrix(arm.tip);
  const motion = new THREE.Matrix4();
  // Poses (in the base frame) of every joint's moving frame, then the tip: like deepik::JointFrames.
  function frames(q) {
    const out = [];
    const M = new THREE.Matrix4();
    joints.forEach((j, i) => {
      M.multiply(j.X_PJ);
      if (j.type === 'prismatic') {
        motion.makeTranslation(j.axisVec.x * q[i], j.axisVec.y * q[i], j.axisVec.z * q[i]);
      } else {
        motion.makeRotationAxis(j.axisVec, q[i]);
      }
      M.multiply(motion);
      out.push(M.clone());
    });
    out.push(M.clone().multiply(X_LT));
    return out;
  }
  return { joints, frames };
}
